// Registers the job workflows' search attributes in a Temporal namespace with the Temporal CLI,
// one `temporal operator search-attribute create` per attribute (as
// deploy/helm/mediaflow/files/register-search-attributes.sh does for a cluster). Idempotent.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTE_TYPES } from '#workflows/search-attributes.js';

const run = promisify(execFile);

export async function registerSearchAttributes(opts: { bin: string; address: string; namespace: string; log?: (line: string) => void }): Promise<void> {
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) {
    const args = ['operator', 'search-attribute', 'create', '--address', opts.address, '--namespace', opts.namespace, '--name', name, '--type', type];
    try {
      await run(opts.bin, args, { timeout: 30_000 });
      opts.log?.(`search attribute ${name} (${type}) registered`);
    } catch (err) {
      const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}${(err as Error).message}`;
      if (/different type/i.test(out)) throw new Error(`search attribute ${name} exists with another type than ${type}: ${out.trim()}`, { cause: err });
      if (!/already exists|AlreadyExists/i.test(out)) throw new Error(`could not register search attribute ${name}: ${out.trim()}`, { cause: err });
    }
  }
}
