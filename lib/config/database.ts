import type { EnvReader } from './reader.js';

export interface DatabaseConfig {
  url: string;
  poolMax: number;
}

export function readDatabase(r: EnvReader): DatabaseConfig {
  return {
    url: r.string('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/mediaflow', (v) => (/^postgres(ql)?:\/\//.test(v) ? undefined : 'must be a postgresql:// URL')),
    poolMax: r.int('DATABASE_POOL_MAX', 10, { min: 1, max: 1000 }),
  };
}
