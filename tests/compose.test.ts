// Static checks of the container setup: docker-compose.yml against the Compose
// Specification JSON schema, plus the wiring between compose, deploy/Dockerfile
// and deploy/entrypoint.sh. Nothing here needs Docker.
//
// Compose schema: the upstream compose-spec/compose-spec `schema/compose-spec.json`,
// as shipped (and kept in sync) by the `dclint` npm package at
// dclint/schemas/compose.schema.json. It is JSON Schema draft-07.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import * as formatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { configVariables, loadConfig } from '#lib/config.js';

// ajv-formats is CommonJS: under Node ESM its default export is the module object itself.
const addFormats = ((formatsModule as { default?: unknown }).default ?? formatsModule) as (ajv: Ajv) => Ajv;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (rel: string): string => readFileSync(path.join(root, rel), 'utf8');

type Json = Record<string, unknown>;
interface Service extends Json {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, unknown> | string[];
}
interface ComposeFile extends Json {
  services: Record<string, Service>;
}

const APP_SERVICES = { migrate: 'dist/entities/migrate.js', api: 'dist/api/main.js', worker: 'dist/worker/main.js' } as const;
type AppRole = keyof typeof APP_SERVICES;
const APP_ROLES = Object.keys(APP_SERVICES) as AppRole[];

// Entrypoint commands beyond the compose services: `rewrap` rewraps stored objects under the primary
// STORAGE_MASTER_KEYS key (deploy/RUNBOOK.md); `admin` grants, revokes and lists platform administration.
const ENTRYPOINT_COMMANDS = { ...APP_SERVICES, rewrap: 'dist/scripts/storage-rewrap.js', admin: 'dist/scripts/platform-admin.js' } as const;

// Configuration the application reads: every variable loadConfig reads (lib/config.ts, the only place
// that reads the environment); anything else in the app environment is a typo.
const APP_ENV_VARS = new Set(configVariables());
// NODE_ENV=production refuses to start without these (development derives them).
const PRODUCTION_SECRETS = ['JWT_SECRET', 'STORAGE_MASTER_KEYS', 'TEMPORAL_CODEC_KEYS', 'WEBHOOK_SECRET_KEY', 'DOWNLOAD_LINK_SECRETS'];
const SEARCH_ATTRIBUTES = {
  MediaflowOrganizationId: 'Keyword',
  MediaflowJobStatus: 'Keyword',
  MediaflowActionIds: 'KeywordList',
  MediaflowMediaType: 'Keyword',
};

function loadCompose(): ComposeFile {
  // merge: true resolves the `<<: *app` merge keys the way Docker Compose does.
  return parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
}

function loadComposeSchema(): Json {
  const require = createRequire(import.meta.url);
  const dclintDir = path.dirname(require.resolve('dclint/package.json'));
  return JSON.parse(readFileSync(path.join(dclintDir, 'schemas', 'compose.schema.json'), 'utf8')) as Json;
}

function commandOf(service: Service): string[] {
  const { command } = service;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

function dependencyCondition(service: Service, dependency: string): string | undefined {
  const deps = service.depends_on;
  if (deps === undefined) return undefined;
  if (Array.isArray(deps)) return deps.includes(dependency) ? 'service_started' : undefined;
  return deps[dependency]?.condition;
}

/** Splits an image reference into repository, tag and digest. */
function parseImage(ref: string): { repository: string; tag?: string; digest?: string } {
  const [nameAndTag = '', digest] = ref.split('@');
  const lastSlash = nameAndTag.lastIndexOf('/');
  const lastColon = nameAndTag.lastIndexOf(':');
  if (lastColon > lastSlash) {
    return { repository: nameAndTag.slice(0, lastColon), tag: nameAndTag.slice(lastColon + 1), digest };
  }
  return { repository: nameAndTag, digest };
}

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, with line continuations joined and comments dropped. */
function dockerfileInstructions(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue; // also skips comments inside continued instructions
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  if (current !== '') logical.push(current);
  return logical.map((l) => {
    const match = /^(\S+)\s*(.*)$/s.exec(l);
    return { keyword: (match?.[1] ?? '').toUpperCase(), args: match?.[2] ?? '' };
  });
}

interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of dockerfileInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const base = words[0] ?? '';
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ base, name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return stages;
}

/** The external image a stage ultimately builds on (follows `FROM <earlier stage>`). */
function resolveBase(stages: Stage[], index: number): string {
  let base = stages[index]?.base ?? '';
  for (let i = index - 1; i >= 0; i--) {
    const stage = stages[i];
    if (stage?.name !== undefined && stage.name.toLowerCase() === base.toLowerCase()) base = stage.base;
  }
  return base;
}

/** Arms of the `case "$1" in` dispatch in deploy/entrypoint.sh: pattern -> body. */
function entrypointArms(script: string): Map<string, string> {
  const arms = new Map<string, string>();
  const caseBody = /\bcase\s+"\$1"\s+in\b([\s\S]*?)\besac\b/.exec(script)?.[1] ?? '';
  for (const chunk of caseBody.split(';;')) {
    const match = /^\s*([^)\s][^)]*)\)([\s\S]*)$/.exec(chunk);
    if (!match) continue;
    for (const pattern of (match[1] ?? '').split('|')) arms.set(pattern.trim(), match[2] ?? '');
  }
  return arms;
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const services = compose.services;

  it('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const schema = loadComposeSchema();
    // The upstream schema names its draft-07 meta-schema by an https URL ajv does not know; it is draft-07.
    delete schema.$schema;
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('has no obsolete top-level version key', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('defines the application services', () => {
    for (const role of APP_ROLES) expect(services[role]).toBeDefined();
  });

  it('builds migrate, api and worker from one image built from deploy/Dockerfile', () => {
    const [first, ...rest] = APP_ROLES.map((role) => services[role] as Service);
    expect(first?.image).toBeTruthy();
    expect(first?.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    for (const service of rest) {
      expect(service.image).toBe(first?.image);
      expect(service.build).toEqual(first?.build);
      expect(service.environment).toEqual(first?.environment);
    }
    expect(statSync(path.join(root, 'deploy/Dockerfile')).isFile()).toBe(true);
  });

  it.each(APP_ROLES)('runs %s with the matching entrypoint command', (role) => {
    expect(commandOf(services[role] as Service)).toEqual([role]);
  });

  it('gives the application only configuration variables lib/config.ts reads', () => {
    const env = (services.api as Service).environment ?? {};
    const names = Array.isArray(env) ? env.map((e) => e.split('=')[0] ?? '') : Object.keys(env);
    expect(APP_ENV_VARS.has('TEMPORAL_ADDRESS')).toBe(true); // the extraction itself works
    expect(names.filter((n) => !APP_ENV_VARS.has(n))).toEqual([]);
    for (const required of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'S3_ENDPOINT', 'WORKFLOW_BUNDLE_PATH', 'WORKER_METRICS_PORT']) {
      expect(names).toContain(required);
    }
  });

  it('runs in production with every secret production requires, none of them with a default', () => {
    const env = (services.api as Service).environment as Record<string, string>;
    expect(env.NODE_ENV).toBe('production');
    for (const name of [...PRODUCTION_SECRETS, 'PROVIDER_KEYS_MASTER_KEYS']) {
      // `${NAME:?message}`: compose refuses to start until the operator sets it; a default would be public.
      expect([name, /^\$\{[A-Z_]+:\?.+\}$/.test(env[name] ?? '')]).toEqual([name, true]);
    }
    expect(env.S3_SECRET_KEY).toMatch(/^\$\{MINIO_ROOT_PASSWORD:\?.+\}$/);
    expect(JSON.stringify(loadCompose())).not.toMatch(/MINIO_ROOT_PASSWORD:-/);
  });

  it('npm run secrets:env writes every variable compose requires, random each time', () => {
    const run = () =>
      Object.fromEntries(
        execFileSync(process.execPath, ['--import', 'tsx', 'scripts/secrets-env.ts'], { encoding: 'utf8', cwd: root })
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      ) as Record<string, string>;
    const a = run();
    const b = run();
    const required = [...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThanOrEqual(PRODUCTION_SECRETS.length);
    for (const name of required) {
      expect([name, (a[name] ?? '').length >= 16, a[name] !== b[name]]).toEqual([name, true, true]);
    }
    const keys = loadConfig({ ...a, NODE_ENV: 'production' });
    expect(keys.s3.masterKeys).toHaveLength(1);
    expect(keys.temporal.codecKeys).toHaveLength(1);
  });

  it('publishes its ports on loopback only, and the API listens on every interface inside its container', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of ((service as Service).ports ?? []) as string[]) expect([name, port]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
    }
    expect(((services.api as Service).environment as Record<string, string>).HOST).toBe('0.0.0.0');
  });

  it('registers the search attributes in a one-shot after the namespace exists, and api and worker wait for it', () => {
    const name = Object.keys(services).find((n) => {
      const s = services[n] as Service;
      return (s.image ?? '').startsWith('temporalio/admin-tools') && JSON.stringify(s).includes('search-attribute create');
    });
    expect(name).toBeDefined();
    const oneShot = services[name!] as Service;
    expect(dependencyCondition(oneShot, 'temporal-create-namespace')).toBe('service_completed_successfully');
    const script = commandOf(oneShot).join('\n');
    // One `register <name> <type>` line per attribute, and one --name per create call.
    const calls = Object.fromEntries([...script.matchAll(/^\s*register (\S+) (\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
    expect(calls).toEqual(SEARCH_ATTRIBUTES);
    expect(script.match(/--name\b/g)).toHaveLength(1);
    for (const role of ['api', 'worker'] as const) {
      expect([role, dependencyCondition(services[role] as Service, name!)]).toEqual([role, 'service_completed_successfully']);
    }
  });

  it('starts api and worker only after migrate completed successfully', () => {
    expect(dependencyCondition(services.api as Service, 'migrate')).toBe('service_completed_successfully');
    expect(dependencyCondition(services.worker as Service, 'migrate')).toBe('service_completed_successfully');
    expect(dependencyCondition(services.migrate as Service, 'postgres')).toBe('service_healthy');
  });

  it('starts temporal only after its schema setup completed successfully', () => {
    const setupName = Object.keys(services).find((name) => {
      const s = services[name] as Service;
      return (s.image ?? '').startsWith('temporalio/admin-tools') && JSON.stringify(s).includes('temporal-sql-tool');
    });
    expect(setupName).toBeDefined();
    expect(dependencyCondition(services.temporal as Service, setupName ?? '')).toBe('service_completed_successfully');
    expect(parseImage((services.temporal as Service).image ?? '').repository).toBe('temporalio/server');
  });

  it('pins every third-party image to an explicit tag other than latest', () => {
    const appImage = (services.api as Service).image;
    const unpinned: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      if (service.image === undefined || service.image === appImage) continue;
      const { tag, digest } = parseImage(service.image);
      const untagged = (tag === undefined || tag === '') && digest === undefined;
      if (untagged || tag === 'latest') unpinned.push(`${name}: ${service.image}`);
    }
    expect(unpinned).toEqual([]);
  });
});

describe('deploy/entrypoint.sh', () => {
  const script = read('deploy/entrypoint.sh');
  const arms = entrypointArms(script);

  it('is an executable POSIX sh script', () => {
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(statSync(path.join(root, 'deploy/entrypoint.sh')).mode & 0o111).not.toBe(0);
  });

  it.each(Object.keys(ENTRYPOINT_COMMANDS) as (keyof typeof ENTRYPOINT_COMMANDS)[])('maps %s to its dist entrypoint', (role) => {
    const body = arms.get(role);
    expect(body).toBeDefined();
    expect(body).toMatch(new RegExp(`\\bexec\\s+node\\s+(?:\\S*/)?${ENTRYPOINT_COMMANDS[role].replaceAll('.', '\\.')}\\b`));
  });

  it('compiles every entrypoint script into dist (tsconfig.build.json includes its source)', () => {
    const include = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    for (const target of Object.values(ENTRYPOINT_COMMANDS)) {
      const source = target.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect([source, include.some((i) => source === i || source.startsWith(`${i}/`))]).toEqual([source, true]);
    }
  });

  it('execs any other command as given', () => {
    expect(arms.get('*')).toMatch(/\bexec\s+"\$@"/);
  });
});

describe('deploy/Dockerfile', () => {
  const stages = dockerfileStages(read('deploy/Dockerfile'));
  const finalIndex = stages.length - 1;
  const final = stages[finalIndex] as Stage;
  const ofFinal = (keyword: string): Instruction[] => final.instructions.filter((i) => i.keyword === keyword);

  it('is multi-stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
  });

  it('bases the final stage on a Debian bookworm Node 24 image', () => {
    expect(resolveBase(stages, finalIndex)).toMatch(/^(?:docker\.io\/)?(?:library\/)?node:24(?:\.\d+){0,2}-bookworm(?:-slim)?(?:@sha256:[0-9a-f]{64})?$/);
  });

  it('runs as a non-root user', () => {
    const user = ofFinal('USER').at(-1)?.args.trim() ?? '';
    expect(user).not.toBe('');
    expect(['root', '0']).not.toContain(user.split(':')[0]);
  });

  it('installs ffmpeg and tesseract in the final stage', () => {
    const installs = ofFinal('RUN').map((i) => i.args).filter((a) => /\bapt-get\s+install\b/.test(a)).join(' ');
    expect(installs).toMatch(/\bffmpeg\b/);
    expect(installs).toMatch(/\btesseract-ocr\b/);
    expect(installs).toMatch(/--no-install-recommends/);
  });

  it('starts through tini and deploy/entrypoint.sh with api as the default command', () => {
    const entrypoint = JSON.parse(ofFinal('ENTRYPOINT').at(-1)?.args ?? '[]') as string[];
    expect(entrypoint).toContain('/app/deploy/entrypoint.sh');
    expect(entrypoint.some((part) => /(?:^|\/)tini$/.test(part))).toBe(true);
    expect(JSON.parse(ofFinal('CMD').at(-1)?.args ?? '[]')).toEqual(['api']);
    expect(ofFinal('COPY').some((i) => /deploy\/entrypoint\.sh\s+\/app\/deploy\/entrypoint\.sh$/.test(i.args))).toBe(true);
  });
});
