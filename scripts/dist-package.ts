// dist/ mirrors the source folders, so the compiled code resolves the package.json "imports"
// aliases (#domain/…, #lib/…) through a package.json of its own with the same map.
import { readFile, writeFile } from 'node:fs/promises';

const { type, imports } = JSON.parse(await readFile('package.json', 'utf8')) as { type: string; imports: Record<string, string> };
await writeFile('dist/package.json', JSON.stringify({ type, imports }, null, 2) + '\n');
