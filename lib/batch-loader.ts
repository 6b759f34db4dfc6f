/**
 * Coalesces single look-ups into batched ones (the DataLoader pattern, without its cache): a
 * look-up waits at most until the end of the event-loop turn it was made in, and while
 * `maxInFlight` batches are already out, look-ups wait for one of them to finish and go together
 * in the next. Idle, a look-up costs one `setImmediate`; under load, one statement (one socket
 * write, one plan execution, one result to parse) answers many requests.
 */
export interface BatchLoaderOptions {
  /** Look-ups per batch at most. */
  maxBatch: number;
  /** Batches out at once at most (keep it below the connection pool's size). */
  maxInFlight: number;
}

/**
 * `load` receives the keys of a batch and returns one value per key, in the same order
 * (`undefined` for a key without one). A batch that fails rejects each of its look-ups.
 */
export function batchLoader<K, V>(load: (keys: K[]) => Promise<(V | undefined)[]>, options: BatchLoaderOptions): (key: K) => Promise<V | undefined> {
  interface Waiting {
    key: K;
    resolve: (v: V | undefined) => void;
    reject: (err: unknown) => void;
  }
  const waiting: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  function send(batch: Waiting[]): void {
    inFlight++;
    let results: Promise<(V | undefined)[]>;
    try {
      results = load(batch.map((w) => w.key));
    } catch (err) {
      results = Promise.reject(err);
    }
    results
      .then(
        (values) => {
          if (values.length !== batch.length) throw new Error(`batch loader: ${values.length} values for ${batch.length} keys`);
          batch.forEach((w, i) => w.resolve(values[i]));
        },
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)))
      .finally(() => {
        inFlight--;
        flush();
      });
  }

  function flush(): void {
    scheduled = false;
    while (waiting.length && inFlight < options.maxInFlight) send(waiting.splice(0, options.maxBatch));
  }

  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      // Look-ups parsed in this turn of the loop go together; once the batches out come back, the
      // finishing one sends what waits.
      if (!scheduled && inFlight < options.maxInFlight) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/**
 * A batch's values in key order from rows that name their key by its 1-based position (`k`, as
 * `unnest(…) with ordinality` gives it): keys without a row get `undefined`.
 */
export function byOrdinality<R extends { k: string | number }>(rows: R[], keys: number): (R | undefined)[] {
  const values: (R | undefined)[] = new Array(keys);
  for (const row of rows) values[Number(row.k) - 1] = row;
  return values;
}
