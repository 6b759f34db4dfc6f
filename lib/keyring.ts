import { createSecretKey, type KeyObject } from 'node:crypto';

/** A 256-bit key and the id stored next to everything it protects, so rotation knows which key to use. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/**
 * A master key as the keyring holds it: a KeyObject, because a cipher made from a Buffer key
 * imports that key again on every call (about 15 µs of CPU each, against 4 with the KeyObject).
 */
export interface KeyringKey {
  id: string;
  key: KeyObject;
}

/**
 * Keys by id; the first is the primary (used to protect new data), the others stay for reading
 * what they protected until it is re-protected under the primary.
 */
export interface Keyring {
  primary: KeyringKey;
  get(id: string): KeyringKey | undefined;
  ids: string[];
}

const ID = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Parses `k2:<base64 of 32 bytes>,k1:<base64>` (first = primary). Returns the problems instead of
 * throwing so the config can report every bad variable at once.
 */
export function parseKeyring(name: string, raw: string): { keys: MasterKey[]; problems: string[] } {
  const keys: MasterKey[] = [];
  const problems: string[] = [];
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const key = Buffer.from(colon > 0 ? entry.slice(colon + 1) : '', 'base64');
    // The value is never echoed: it is a secret.
    if (!ID.test(id)) problems.push(`${name}: each entry is <id>:<base64 key> with an id of letters, digits, _ . - (entry ${keys.length + 1})`);
    else if (key.length !== 32) problems.push(`${name}: key "${id}" must be 32 bytes, base64-encoded`);
    else if (keys.some((k) => k.id === id)) problems.push(`${name}: key id "${id}" appears twice`);
    else keys.push({ id, key });
  }
  return { keys, problems };
}

export function createKeyring(keys: MasterKey[], what: string): Keyring {
  const held = keys.map((k): KeyringKey => ({ id: k.id, key: createSecretKey(k.key) }));
  const [primary] = held;
  if (!primary) throw new Error(`${what} has no key: set it in production (see docs/security.md)`);
  const byId = new Map(held.map((k) => [k.id, k]));
  return { primary, get: (id) => byId.get(id), ids: held.map((k) => k.id) };
}
