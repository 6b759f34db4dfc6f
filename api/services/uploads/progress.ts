import { Transform } from 'node:stream';

/**
 * Counts the bytes flowing through and reports the running total (from `start`) at most every
 * `intervalMs`, plus once at the end. Reports run one at a time; a failed report is ignored
 * (progress is advisory and must never fail the upload).
 */
export function progressMeter(report: (bytes: number) => Promise<unknown>, start = 0, intervalMs = 500): Transform & { flushed: () => Promise<void> } {
  let bytes = start;
  let last = Date.now();
  let chain: Promise<unknown> = Promise.resolve();
  const send = () => {
    const value = bytes;
    chain = chain.then(() => report(value)).catch(() => undefined);
  };
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (Date.now() - last >= intervalMs) {
        last = Date.now();
        send();
      }
      cb(null, chunk);
    },
    flush(cb) {
      send();
      cb();
    },
  });
  return Object.assign(meter, { flushed: () => chain.then(() => undefined) });
}
