import argon2 from 'argon2';

export interface Argon2Params {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `rehash` is set when the stored hash used other parameters: the caller stores `hash(password)` again. */
  verify(hash: string | null | undefined, password: string): Promise<{ ok: boolean; rehash: boolean }>;
}

/** argon2id. A missing hash is still checked against a dummy one so the time taken reveals nothing. */
export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options = { type: argon2.argon2id as 2, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      if (!hash) {
        dummy ??= argon2.hash('not a password of anyone', options);
        await argon2.verify(await dummy, password).catch(() => false);
        return { ok: false, rehash: false };
      }
      const ok = await argon2.verify(hash, password).catch(() => false);
      return { ok, rehash: ok && argon2.needsRehash(hash, options) };
    },
  };
}
