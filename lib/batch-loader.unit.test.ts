import { batchLoader } from './batch-loader.js';

const tick = () => new Promise((r) => setImmediate(r));

test('look-ups of one turn go in one batch; each gets its own value', async () => {
  const batches: number[][] = [];
  const load = batchLoader(async (keys: number[]) => {
    batches.push(keys);
    return keys.map((k) => (k % 2 ? k * 10 : undefined));
  }, { maxBatch: 10, maxInFlight: 2 });
  expect(await Promise.all([1, 2, 3].map(load))).toEqual([10, undefined, 30]);
  expect(batches).toEqual([[1, 2, 3]]);
});

test('while maxInFlight batches are out, look-ups wait and go together, at most maxBatch a batch', async () => {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  let out = 0;
  let mostOut = 0;
  const load = batchLoader(async (keys: number[]) => {
    batches.push(keys);
    mostOut = Math.max(mostOut, ++out);
    await new Promise<void>((r) => release.push(r));
    out--;
    return keys;
  }, { maxBatch: 3, maxInFlight: 1 });
  const first = load(0);
  await tick();
  const rest = [1, 2, 3, 4, 5].map(load);
  await tick();
  expect(batches).toEqual([[0]]);
  while (release.length || batches.length < 3) {
    release.shift()?.();
    await tick();
  }
  expect(await Promise.all([first, ...rest])).toEqual([0, 1, 2, 3, 4, 5]);
  expect(batches).toEqual([[0], [1, 2, 3], [4, 5]]);
  expect(mostOut).toBe(1);
});

test('a failed batch rejects its own look-ups only; a wrong number of values is a failure', async () => {
  let calls = 0;
  const load = batchLoader(async (keys: string[]) => {
    calls++;
    if (keys.includes('bad')) throw new Error('boom');
    if (keys.includes('short')) return [];
    return keys;
  }, { maxBatch: 10, maxInFlight: 1 });
  await expect(Promise.all([load('a'), load('bad')])).rejects.toThrow('boom');
  await expect(load('short')).rejects.toThrow('0 values for 1 keys');
  expect(await load('ok')).toBe('ok');
  expect(calls).toBe(3);
});
