import { reportProgress } from './progress.js';

/** A progress reporter on a clock the test moves; records what reached the heartbeat and the store. */
function reporter() {
  let t = 0;
  const beats: number[] = [];
  const writes: number[] = [];
  const jobs = { progress: async (_at: unknown, f: number) => void writes.push(f) };
  const report = reportProgress({ jobs, logger: { warn: () => undefined } } as never, { jobId: 'j', stepIndex: 0, totalSteps: 1 }, (f) => beats.push(f), () => t);
  return { at: (ms: number, f: number) => ((t = ms), report(f)), beats, writes };
}

test('every report beats; the store gets one a second, and one every 250 ms while progress moves by a tenth', () => {
  const r = reporter();
  r.at(100, 0.1); // the step's first 250 ms: never written
  r.at(300, 0.05); // moved less than a tenth: waits for the second
  r.at(600, 0.3); // moved 0.3 since the last write (none): written
  r.at(700, 0.45); // within 250 ms of that write
  r.at(900, 0.45); // 300 ms on, moved 0.15: written
  r.at(1200, 0.5); // small move, 300 ms: not yet
  r.at(1950, 0.52); // a second since the last write: written however little it moved
  expect(r.beats).toEqual([0.1, 0.05, 0.3, 0.45, 0.45, 0.5, 0.52]);
  expect(r.writes).toEqual([0.3, 0.45, 0.52]);
});
