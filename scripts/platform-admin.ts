// Platform administration, granted out of band by whoever runs the platform (never through the API):
//   npm run admin:grant -- <email or user id>
//   npm run admin:revoke -- <email or user id>
//   npm run admin:list
// In the production image: `docker run … mediaflow admin grant <email or user id>` (deploy/entrypoint.sh).
// It sets users.platform_admin; every API instance drops its cached sessions of that user at commit.
import type { MikroORM } from '@mikro-orm/postgresql';
import { UserSchema, type User } from '#entities/index.js';
import { createOrm } from '#entities/orm.js';
import { loadConfig } from '#lib/config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const describe = (u: Pick<User, 'id' | 'email' | 'status'>) => `${u.email} (user ${u.id}, ${u.status})`;

async function find(orm: MikroORM, ref: string): Promise<User> {
  const user = await orm.em.fork().findOne(UserSchema, UUID.test(ref) ? { id: ref.toLowerCase() } : { email: ref.trim().toLowerCase() });
  if (!user) throw new Error(`no user with ${UUID.test(ref) ? 'id' : 'email'} ${ref}`);
  return user;
}

async function run(orm: MikroORM, command: string | undefined, ref: string | undefined, configured: string[]): Promise<string[]> {
  if (command === 'list') {
    const flagged = await orm.em.fork().find(UserSchema, { platformAdmin: true }, { orderBy: { email: 'asc' } });
    const fromConfig = configured.length ? await orm.em.fork().find(UserSchema, { id: { $in: configured } }) : [];
    const lines = [
      ...flagged.map((u) => describe(u)),
      ...configured.map((id) => {
        const u = fromConfig.find((c) => c.id === id);
        return `${u ? describe(u) : `user ${id} (no such user)`} [PLATFORM_ADMIN_USER_IDS]`;
      }),
    ];
    return lines.length ? lines : ['no platform administrators'];
  }
  if ((command !== 'grant' && command !== 'revoke') || !ref) throw new Error('usage: platform-admin grant|revoke <email or user id> | list');
  const user = await find(orm, ref);
  if (command === 'grant' && user.status !== 'active') throw new Error(`${describe(user)} is not active`);
  await orm.em.fork().nativeUpdate(UserSchema, { id: user.id }, { platformAdmin: command === 'grant' });
  const note = command === 'revoke' && configured.includes(user.id) ? '; still listed in PLATFORM_ADMIN_USER_IDS, remove the id there too' : '';
  return [`${command === 'grant' ? 'granted platform administration to' : 'revoked platform administration of'} ${describe(user)}${note}`];
}

let orm: MikroORM | undefined;
try {
  const config = loadConfig();
  orm = await createOrm({ url: config.database.url, poolMax: 1 });
  for (const line of await run(orm, process.argv[2], process.argv[3], config.auth.platformAdminUserIds)) console.log(line);
} catch (err) {
  console.error(`platform-admin: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await orm?.close(true);
}
