import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '#api/openapi/document.js';
import { listOperations } from '#api/openapi/operations.js';
import { buildRouter } from '#api/router.js';

const doc = loadSpec();
const noop = { handle: async () => undefined };
const allRoutes = () => Object.fromEntries(listOperations(doc).map((o) => [o.operationId, noop]));

test('the generated types are up to date with openapi.yaml (run `npm run gen:types`)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-types-'));
  try {
    const out = join(dir, 'openapi.ts');
    execFileSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', 'openapi/openapi.yaml', '-o', out], { stdio: 'pipe' });
    expect(readFileSync('api/generated/openapi.ts', 'utf8')).toBe(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every operation has a unique operationId and an error response', () => {
  const ops = listOperations(doc);
  expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
  const paths = doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  for (const op of ops) expect(paths[op.path]![op.method]!.responses.default).toBeDefined();
});

// The contract check (tests/support/contract.ts) accepts `default` for server errors only, so every
// client error an operation can answer must be declared by status.
test('every operation declares the client errors it can answer', () => {
  const paths = doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  const missing: string[] = [];
  for (const op of listOperations(doc)) {
    const declared = Object.keys(paths[op.path]![op.method]!.responses);
    const want: string[] = [];
    if (op.parameters.length || op.body) want.push('400');
    if (op.security.some((s) => s.length > 0)) want.push('401', '403');
    if (op.path.includes('{')) want.push('404');
    if ((op.rateLimit ?? (op.method === 'get' ? 'read' : 'write')) !== 'none') want.push('429');
    for (const code of want) if (!declared.includes(code)) missing.push(`${op.operationId} ${code}`);
  }
  expect(missing).toEqual([]);
});

test('boot fails when an operation has no handler', () => {
  const routes = allRoutes();
  delete routes.getJob;
  expect(() => buildRouter(doc, routes)).toThrow(/operations without a handler: getJob/);
});

test('boot fails when a handler has no operation in the spec', () => {
  expect(() => buildRouter(doc, { ...allRoutes(), deleteEverything: noop })).toThrow(/handlers without an operation in openapi.yaml: deleteEverything/);
});

test('the router registers exactly the operations of the spec', () => {
  const router = buildRouter(doc, allRoutes());
  const registered = router.stack.map((l) => `${l.methods.filter((m) => m !== 'HEAD' || l.methods.length === 1).join(',')} ${l.path}`).sort();
  const expected = listOperations(doc).map((o) => `${o.method.toUpperCase()} ${o.routerPath}`).sort();
  expect(registered).toEqual(expected);
});
