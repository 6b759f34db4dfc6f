import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { parseKeyring, type MasterKey } from '../keyring.js';

// The one reader of the environment. Each field type checks its variable and, when the value is
// bad, records a problem and returns the default, so that loadConfig can list every bad variable at
// once (ConfigError) instead of stopping at the first.

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Durations: `<integer><unit>` with a unit of ms, s, m, h or d (`250ms`, `90s`, `15m`, `24h`,
 * `7d`), or a bare integer in the variable's own unit (milliseconds for a `*_MS` variable, seconds
 * for a `*_SECONDS` one, and so on), so every value accepted before stays valid.
 */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';
export const DURATION_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_NAMES: Record<DurationUnit, string> = { ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days' };

/** Milliseconds of a duration in the grammar above (a bare number in `bare`), or undefined when it is not one. */
export function parseDuration(raw: string, bare: DurationUnit = 's'): number | undefined {
  const m = DURATION.exec(raw.trim());
  if (m) return Number(m[1]) * DURATION_MS[(m[2] as DurationUnit | undefined) ?? bare];
  const n = bareNumber(raw);
  return n === undefined ? undefined : n * DURATION_MS[bare];
}

// What Number() reads as a whole number (1e3, 0x10): the integer variables took these before.
function bareNumber(raw: string): number | undefined {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Byte sizes: `<integer><unit>` with a unit of B, KiB, MiB or GiB, or a bare integer in the variable's unit (MiB for `*_MB`). */
export type SizeUnit = 'B' | 'KiB' | 'MiB' | 'GiB';
export const SIZE_BYTES: Record<SizeUnit, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;

/** Bytes of a size in the grammar above (a bare number in `bare`), or undefined when it is not one. */
export function parseSize(raw: string, bare: SizeUnit = 'B'): number | undefined {
  const m = SIZE.exec(raw.trim());
  if (m) return Number(m[1]) * SIZE_BYTES[(m[2] as SizeUnit | undefined) ?? bare];
  const n = bareNumber(raw);
  return n === undefined ? undefined : n * SIZE_BYTES[bare];
}

/** An IPv4 or IPv6 network such as 10.0.0.0/8 or ::1/128 (an address alone is its own /32 or /128). */
export function isCidr(entry: string): boolean {
  const [net, prefix, extra] = entry.split('/');
  const v = isIP(net ?? '');
  if (!v || extra !== undefined) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (v === 6 ? 128 : 32));
}

// Secrets a development or test process generates for itself when its environment sets none: random,
// never a string written here, and the same for every loadConfig call of the process. They last as
// long as the process, so `npm start` generates them once into its data directory and hands them to
// the API and the worker (lib/local-secrets.ts).
const ephemeral = new Map<string, Buffer>();
export const ephemeralSecret = (name: string): Buffer => {
  let value = ephemeral.get(name);
  if (!value) ephemeral.set(name, (value = randomBytes(32)));
  return value;
};
const ephemeralText = (name: string): string => ephemeralSecret(name).toString('base64url');

export interface IntOptions {
  min?: number;
  max?: number;
}

export interface DurationOptions {
  /** The unit of a bare number, and of what is returned (unless `as` says otherwise). */
  unit: DurationUnit;
  /** The unit of the returned number; the value must be a whole number of it. Default: `unit`. */
  as?: DurationUnit;
  /** Bounds, as durations (`10ms`, `1m`); a bare number is in `unit`. */
  min?: string;
  max?: string;
}

export interface SizeOptions {
  unit: SizeUnit;
  /** Bounds, as sizes (`5MiB`); a bare number is in `unit`. */
  min?: string;
  max?: string;
}

export interface SecretOptions {
  /** Production: none when unset (whatever needs it refuses to start); elsewhere a random one of this process. */
  production: boolean;
  minBytes?: number;
}

/**
 * Reads variables from `env`. Each variable may be read once only (a second read is a programming
 * error, thrown at once), so every setting has one definition. Unset and empty mean "the default"
 * unless a field says otherwise.
 */
export class EnvReader {
  readonly problems: string[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly env: Env) {}

  /** The raw value (undefined when unset); marks the variable read. */
  raw(name: string): string | undefined {
    if (this.seen.has(name)) throw new Error(`configuration: ${name} is read twice; read it once and pass the value on`);
    this.seen.add(name);
    return this.env[name];
  }

  /** The raw value, with empty as unset. */
  optional(name: string): string | undefined {
    const v = this.raw(name);
    return v === undefined || v === '' ? undefined : v;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  /** Names read so far. */
  get names(): string[] {
    return [...this.seen];
  }

  string(name: string, fallback: string, check?: (value: string) => string | undefined): string {
    const v = this.optional(name) ?? fallback;
    const problem = check?.(v);
    if (problem) {
      this.problem(`${name} ${problem}`);
      return fallback;
    }
    return v;
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER }: IntOptions = {}): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problem(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  }

  enum<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problem(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  }

  bool(name: string, fallback: boolean): boolean {
    return this.enum(name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
  }

  /** A URL; unset: `fallback` (undefined: none). */
  url(name: string, fallback: string): URL;
  url(name: string, fallback?: undefined): URL | undefined;
  url(name: string, fallback?: string): URL | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return fallback === undefined ? undefined : new URL(fallback);
    try {
      return new URL(raw);
    } catch {
      this.problem(`${name} must be a URL (got "${raw}")`);
      return fallback === undefined ? undefined : new URL(fallback);
    }
  }

  /** A duration (see DurationUnit), returned in `opts.as ?? opts.unit`. `fallback` is in the same grammar. */
  duration(name: string, fallback: string, opts: DurationOptions): number {
    const as = opts.as ?? opts.unit;
    const toOut = (ms: number) => ms / DURATION_MS[as];
    const fallbackMs = parseDuration(fallback, opts.unit);
    if (fallbackMs === undefined) throw new Error(`configuration: the default of ${name} is not a duration`);
    const raw = this.optional(name);
    if (raw === undefined) return toOut(fallbackMs);
    const ms = parseDuration(raw, opts.unit);
    const min = opts.min === undefined ? undefined : parseDuration(opts.min, opts.unit)!;
    const max = opts.max === undefined ? undefined : parseDuration(opts.max, opts.unit)!;
    const bounds = min !== undefined && max !== undefined ? ` between ${opts.min} and ${opts.max}` : min !== undefined ? ` of at least ${opts.min}` : max !== undefined ? ` of at most ${opts.max}` : '';
    if (ms === undefined || (min !== undefined && ms < min) || (max !== undefined && ms > max)) {
      this.problem(`${name} must be a duration${bounds}, such as 500ms, 90s, 15m, 24h or 7d, or a number of ${UNIT_NAMES[opts.unit]} (got "${raw}")`);
      return toOut(fallbackMs);
    }
    if (ms % DURATION_MS[as] !== 0) {
      this.problem(`${name} must be a whole number of ${UNIT_NAMES[as]} (got "${raw}")`);
      return toOut(fallbackMs);
    }
    return toOut(ms);
  }

  /** A byte size (see SizeUnit), returned in bytes; it must be a whole number of `opts.unit`. */
  size(name: string, fallback: string, opts: SizeOptions): number {
    const fallbackBytes = parseSize(fallback, opts.unit);
    if (fallbackBytes === undefined) throw new Error(`configuration: the default of ${name} is not a size`);
    const raw = this.optional(name);
    if (raw === undefined) return fallbackBytes;
    const bytes = parseSize(raw, opts.unit);
    const min = opts.min === undefined ? undefined : parseSize(opts.min, opts.unit)!;
    const max = opts.max === undefined ? undefined : parseSize(opts.max, opts.unit)!;
    const bounds = min !== undefined && max !== undefined ? ` between ${opts.min} and ${opts.max}` : min !== undefined ? ` of at least ${opts.min}` : max !== undefined ? ` of at most ${opts.max}` : '';
    if (bytes === undefined || !Number.isSafeInteger(bytes) || (min !== undefined && bytes < min) || (max !== undefined && bytes > max)) {
      this.problem(`${name} must be a size${bounds}, such as 512KiB, 100MiB or 2GiB, or a number of ${opts.unit} (got "${raw}")`);
      return fallbackBytes;
    }
    if (bytes % SIZE_BYTES[opts.unit] !== 0) {
      this.problem(`${name} must be a whole number of ${opts.unit} (got "${raw}")`);
      return fallbackBytes;
    }
    return bytes;
  }

  /**
   * A comma-separated list, entries trimmed and empty ones dropped. `fallback` applies when the
   * variable is unset (set and empty: no entries). `item` checks (and may normalise) each entry:
   * a string problem is reported with the entry and the entry dropped.
   */
  list(name: string, fallback: string[] = [], item?: (entry: string) => { value: string } | { problem: string }): string[] {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const out: string[] = [];
    for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
      const r = item ? item(entry) : { value: entry };
      if ('problem' in r) this.problem(`${name} entries are ${r.problem} (got "${entry}")`);
      else out.push(r.value);
    }
    return out;
  }

  /** A comma-separated list, or undefined when unset or empty. */
  optionalList(name: string): string[] | undefined {
    const raw = this.optional(name);
    return raw === undefined ? undefined : raw.split(',').map((e) => e.trim()).filter(Boolean);
  }

  /** Comma-separated IPv4 and IPv6 CIDRs (an address alone is a /32 or /128). */
  cidrList(name: string): string[] {
    return this.list(name, [], (entry) => (isCidr(entry) ? { value: entry } : { problem: 'CIDRs such as 127.0.0.0/8 or ::1/128' }));
  }

  /** A secret text of at least `minBytes` (never echoed in a problem). */
  secret(name: string, opts: SecretOptions): string {
    const v = this.optional(name);
    if (v === undefined) return opts.production ? '' : ephemeralText(name);
    if (opts.minBytes && Buffer.byteLength(v) < opts.minBytes) this.problem(`${name} must be at least ${opts.minBytes} bytes`);
    return v;
  }

  /** Comma-separated secrets, each at least `minBytes` (never echoed): the first signs, all verify. */
  secretList(name: string, opts: SecretOptions): string[] {
    const entries = (this.raw(name) ?? '').split(',').map((k) => k.trim()).filter(Boolean);
    if (opts.minBytes && entries.some((k) => Buffer.byteLength(k) < opts.minBytes!)) this.problem(`${name} entries must be at least ${opts.minBytes} bytes`);
    if (entries.length) return entries;
    return opts.production ? [] : [ephemeralText(name)];
  }

  /**
   * A keyring ("k2:<base64>,k1:<base64>", first = primary). Unset outside production: one key of
   * this process only (see ephemeralSecret). Unset in production: no key, and whatever needs it
   * (storage, the payload codec) refuses to start.
   */
  keyring(name: string, opts: Pick<SecretOptions, 'production'>): MasterKey[] {
    const raw = this.optional(name);
    if (!raw) return opts.production ? [] : [{ id: 'ephemeral', key: ephemeralSecret(name) }];
    const parsed = parseKeyring(name, raw);
    this.problems.push(...parsed.problems);
    return parsed.keys;
  }

  /** Throws ConfigError listing every problem recorded. */
  finish(): void {
    if (this.problems.length) throw new ConfigError(this.problems);
  }
}
