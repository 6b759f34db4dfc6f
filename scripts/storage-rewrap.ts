// npm run storage:rewrap [-- --prefix orgs/<id>/]: rewraps every object's data key under the primary
// STORAGE_MASTER_KEYS key, so older keys can then be removed from the keyring (docs/security.md).
import { loadConfig } from '#lib/config.js';
import { rewrapStorage } from '#lib/storage-rewrap.js';

const prefixAt = process.argv.indexOf('--prefix');
const config = loadConfig();
const report = await rewrapStorage(config.s3, {
  prefix: prefixAt > 0 ? process.argv[prefixAt + 1] : undefined,
  onObject: (key, outcome) => console.log(`${key}: ${outcome}`),
});
console.log(
  `rewrapped ${report.rewrapped}, already under "${config.s3.masterKeys[0]?.id}" ${report.current}, ` +
    `unencrypted ${report.plaintext}, failed ${report.failed.length}`,
);
process.exitCode = report.failed.length ? 1 : 0;
