// `npm run secrets:env > .env`: fresh random secrets for docker-compose.yml, as KEY=value lines.
import { generateSecrets } from '#lib/local-secrets.js';

const s = generateSecrets();
const lines = {
  JWT_SECRET: s.JWT_SECRET,
  STORAGE_MASTER_KEYS: s.STORAGE_MASTER_KEYS,
  TEMPORAL_CODEC_KEYS: s.TEMPORAL_CODEC_KEYS,
  WEBHOOK_SECRET_KEY: s.WEBHOOK_SECRET_KEY,
  DOWNLOAD_LINK_SECRETS: s.DOWNLOAD_LINK_SECRETS,
  PROVIDER_KEYS_MASTER_KEYS: s.PROVIDER_KEYS_MASTER_KEYS,
  MINIO_ROOT_USER: s.S3_ACCESS_KEY,
  MINIO_ROOT_PASSWORD: s.S3_SECRET_KEY,
};
process.stdout.write(Object.entries(lines).map(([k, v]) => `${k}=${v}\n`).join(''));
