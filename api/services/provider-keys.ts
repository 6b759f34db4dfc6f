import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { OrganizationProviderKeySchema, STORED_KEY_PROVIDERS, type StoredKeyProvider } from '#entities/index.js';
import { ServiceUnavailableError } from '#lib/errors.js';
import { createKeyring, type Keyring, type MasterKey } from '#lib/keyring.js';
import type { Logger } from '#lib/logger.js';
import type { ProviderKeys } from '#workflows/types.js';

export interface StoredKeyStatus {
  set: boolean;
  preview: string | null;
  updatedAt: Date | null;
}
export type StoredKeysStatus = Record<StoredKeyProvider, StoredKeyStatus>;
/** A string sets the provider's key, null clears it, absent leaves it. */
export type StoredKeyChanges = Partial<Record<StoredKeyProvider, string | null>>;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Associated data binds a ciphertext to its organization, provider and master key: a row copied to
 * another organization or provider, or relabelled with another key id, does not decrypt.
 */
const aad = (organizationId: string, provider: StoredKeyProvider, keyId: string) =>
  Buffer.from(`mediaflow:provider-key:${VERSION}:${organizationId}:${provider}:${keyId}`);

/**
 * Organizations' own AI provider keys: AES-256-GCM under PROVIDER_KEYS_MASTER_KEYS (the primary
 * encrypts, any listed key decrypts). Plaintext leaves here only towards a job's workflow input.
 */
/** A stored key as its row keeps it. */
export interface SealedKey {
  provider: StoredKeyProvider;
  keyId: string;
  ciphertext: string;
}

export function createProviderKeyStore(deps: { orm: MikroORM; logger: Logger; masterKeys: MasterKey[]; now: () => Date }) {
  const { orm, logger } = deps;
  let ring: Keyring | undefined;
  // Unset in production: storing keys is refused (503) rather than the whole API refusing to start.
  const keyring = (): Keyring => {
    if (!deps.masterKeys.length) throw new ServiceUnavailableError('Stored provider keys are not configured (PROVIDER_KEYS_MASTER_KEYS)');
    return (ring ??= createKeyring(deps.masterKeys, 'PROVIDER_KEYS_MASTER_KEYS'));
  };

  function seal(organizationId: string, provider: StoredKeyProvider, plaintext: string): { ciphertext: string; keyId: string } {
    const { id, key } = keyring().primary;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(organizationId, provider, id));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext: `${VERSION}.${Buffer.concat([iv, data, cipher.getAuthTag()]).toString('base64url')}`, keyId: id };
  }

  function open(organizationId: string, provider: StoredKeyProvider, keyId: string, sealed: string): string {
    const master = keyring().get(keyId);
    const [version, body] = sealed.split('.');
    const raw = Buffer.from(body ?? '', 'base64url');
    if (!master || version !== VERSION || raw.length < IV_BYTES + TAG_BYTES) throw new Error(`stored ${provider} key cannot be decrypted (key id "${keyId}")`);
    const decipher = createDecipheriv('aes-256-gcm', master.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(aad(organizationId, provider, keyId));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  function openAll(organizationId: string, rows: SealedKey[]): ProviderKeys {
    const keys: ProviderKeys = {};
    for (const row of rows) {
      try {
        keys[row.provider] = open(organizationId, row.provider, row.keyId, row.ciphertext);
      } catch (err) {
        // Never the value: only which organization, provider and master key id.
        logger.error({ organizationId, provider: row.provider, keyId: row.keyId, reason: (err as Error).message }, 'stored provider key cannot be decrypted');
        throw new ServiceUnavailableError("The organization's stored provider key cannot be used; ask an operator (PROVIDER_KEYS_MASTER_KEYS)");
      }
    }
    return keys;
  }

  async function status(organizationId: string): Promise<StoredKeysStatus> {
    const rows = await orm.em.fork().find(OrganizationProviderKeySchema, { organization: organizationId });
    const of = (provider: StoredKeyProvider): StoredKeyStatus => {
      const row = rows.find((r) => r.provider === provider);
      return row ? { set: true, preview: row.preview, updatedAt: row.updatedAt } : { set: false, preview: null, updatedAt: null };
    };
    return { openai: of('openai'), anthropic: of('anthropic') };
  }

  return {
    status,

    async set(organizationId: string, changes: StoredKeyChanges): Promise<StoredKeysStatus> {
      await orm.em.fork().transactional(async (em) => {
        for (const provider of STORED_KEY_PROVIDERS) {
          const value = changes[provider];
          if (value === undefined) continue;
          if (value === null) {
            await em.nativeDelete(OrganizationProviderKeySchema, { organization: organizationId, provider });
            continue;
          }
          const fields = { ...seal(organizationId, provider, value), preview: `…${value.slice(-4)}`, updatedAt: deps.now() };
          await em.upsert(OrganizationProviderKeySchema, { organization: organizationId, provider, ...fields }, {
            onConflictFields: ['organization', 'provider'],
            onConflictAction: 'merge',
            onConflictMergeFields: ['ciphertext', 'keyId', 'preview', 'updatedAt'],
          });
        }
      });
      return status(organizationId);
    },

    /** The organization's stored keys in plaintext, for one job's workflow input only. */
    async forJob(organizationId: string): Promise<ProviderKeys> {
      return openAll(organizationId, await orm.em.fork().find(OrganizationProviderKeySchema, { organization: organizationId }));
    },

    /** An organization's sealed keys (as read with its submission), opened. */
    openAll,
  };
}

export type ProviderKeyStore = ReturnType<typeof createProviderKeyStore>;

export const providerKeyStoreOf = (deps: { orm: MikroORM; logger: Logger; config: { ai: { providerKeysMasterKeys: MasterKey[] } }; clock: { now(): Date } }) =>
  createProviderKeyStore({ orm: deps.orm, logger: deps.logger, masterKeys: deps.config.ai.providerKeysMasterKeys, now: () => deps.clock.now() });
