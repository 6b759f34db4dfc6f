import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest `relative` path above a module, so the same code finds project files when run
 * from sources and from dist/ (where files sit one level deeper).
 */
export function findUp(relative: string, fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${relative} not found above ${fileURLToPath(fromUrl)}`);
    dir = parent;
  }
}
