// The bare baseline of `npm run bench:api`: node:http and a pg pool of the API's size, answering
// GET /jobs/<id> with the same primary-key query on the same database, with no middleware at all.
// `node --import tsx bench/api-baseline.ts <database url> <pool size>`; prints its port once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Pool {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}
const pgModule = 'pg'; // comes with @mikro-orm/postgresql; a variable specifier because it ships no types
const pg = (await import(pgModule)) as { default: { Pool: new (o: { connectionString: string; max: number }) => Pool } };
const pool = new pg.default.Pool({ connectionString: process.argv[2]!, max: Number(process.argv[3] ?? 10) });

const server = createServer((req, res) => {
  const id = /^\/jobs\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1];
  if (!id) {
    res.writeHead(404).end();
    return;
  }
  pool.query('select * from processing_jobs where id = $1', [id]).then(
    ({ rows }) => {
      if (!rows[0]) return void res.writeHead(404).end();
      const body = JSON.stringify(rows[0]);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    },
    () => res.writeHead(500).end(),
  );
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
