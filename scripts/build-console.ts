// Builds the web console (web/ → web/dist) with Vite when its sources changed since the last
// build; the hash of the inputs is kept in web/dist/.build-hash. `npm start` and the browser tests
// call it; `node --import tsx scripts/build-console.ts [--force]` runs it alone.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const web = path.join(root, 'web');
const INPUTS = ['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'];

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(p)));
    else if (!/\.test\.tsx?$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** A hash of everything the build reads: the console's sources, its config and the locked dependencies. */
export async function consoleSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const paths = [...INPUTS.map((f) => path.join(web, f)), ...(await files(path.join(web, 'src'))).sort(), path.join(root, 'package-lock.json')];
  for (const p of paths) {
    hash.update(path.relative(root, p)).update('\0');
    if (existsSync(p)) hash.update(await readFile(p));
  }
  return hash.digest('hex');
}

export async function ensureConsoleBuilt(opts: { log?: (line: string) => void; force?: boolean } = {}): Promise<{ built: boolean; dir: string }> {
  const log = opts.log ?? (() => undefined);
  const dist = path.join(web, 'dist');
  const stamp = path.join(dist, '.build-hash');
  const want = await consoleSourceHash();
  if (!opts.force && existsSync(path.join(dist, 'index.html')) && existsSync(stamp) && (await readFile(stamp, 'utf8')) === want) {
    return { built: false, dir: dist };
  }
  log('building the web console (web/ → web/dist)');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const proc = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: web, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    proc.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    proc.once('error', reject);
    proc.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`building the web console failed (exit code ${code}):\n${output.join('').slice(-4000)}`);
  // Served as is to browsers that accept gzip (api/console.ts): compressed once here, not per request.
  for (const file of await files(path.join(dist, 'assets'))) {
    if (/\.(js|css|svg)$/.test(file)) await writeFile(`${file}.gz`, await promisify(gzip)(await readFile(file), { level: 9 }));
  }
  await writeFile(stamp, want);
  return { built: true, dir: dist };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureConsoleBuilt({ log: (l) => console.log(`[console] ${l}`), force: process.argv.includes('--force') }).then(
    ({ built }) => console.log(`[console] ${built ? 'built' : 'up to date'}: web/dist`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
