/**
 * A small pool of event-stream slots shared by everything on the page that follows a job live.
 *
 * Browsers allow six HTTP/1.1 connections per origin, and an event stream holds one for as long
 * as the job runs: with a stream per running row, a list of six running jobs would leave no
 * connection for the API calls the page makes (buttons, refreshes), and the page would hang.
 * The pool keeps two connections free; whoever is refused a slot waits in line (first come,
 * first served) and meanwhile relies on the list being refreshed.
 */
export interface SlotPool {
  /** Calls `granted` once a slot is free (maybe at once); the returned function gives the slot back, or leaves the line. */
  acquire(granted: () => void): () => void;
  readonly inUse: number;
  readonly waiting: number;
}

export function createSlotPool(size: number): SlotPool {
  let inUse = 0;
  const line: Array<() => void> = [];
  const next = () => {
    while (inUse < size && line.length) {
      inUse++;
      line.shift()!();
    }
  };
  return {
    acquire(granted) {
      let state: 'waiting' | 'held' | 'done' = 'waiting';
      const enter = () => {
        state = 'held';
        granted();
      };
      line.push(enter);
      next();
      return () => {
        if (state === 'held') {
          inUse--;
          state = 'done';
          next();
        } else if (state === 'waiting') {
          state = 'done';
          const i = line.indexOf(enter);
          if (i >= 0) line.splice(i, 1);
        }
      };
    },
    get inUse() {
      return inUse;
    },
    get waiting() {
      return line.length;
    },
  };
}

/** Six connections per origin, two kept for the page's own requests. */
export const STREAM_SLOTS = 4;
export const streamSlots = createSlotPool(STREAM_SLOTS);
