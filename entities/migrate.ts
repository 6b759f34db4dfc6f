import { pathToFileURL } from 'node:url';
import { loadConfig } from '#lib/config.js';
import { createOrm } from './orm.js';

/**
 * Applies pending migrations to `databaseUrl` and closes the ORM.
 * Returns the names of the migrations applied (empty when the schema is already current).
 */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const orm = await createOrm({ url: databaseUrl, poolMax: 1 });
  try {
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await orm.close(true);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const applied = await migrate(loadConfig().database.url);
    console.log(
      applied.length === 0
        ? 'migrate: database is up to date (0 migrations applied)'
        : `migrate: applied ${applied.length} migration(s): ${applied.join(', ')}`,
    );
    process.exit(0);
  } catch (err) {
    console.error('migrate: failed:', err);
    process.exit(1);
  }
}
