import type { Config } from '#lib/config.js';
import { RateLimitedError } from '#lib/errors.js';

/** How long a refused client should wait before opening a stream again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Open event streams of this API instance, bounded per organization and in all: a stream holds a
 * socket and a subscription until it ends, so unbounded ones exhaust the instance. Over either cap:
 * `429 RATE_LIMITED` with Retry-After.
 */
export function createStreamSlots(limits: Config['resources']['sse']) {
  const byOrg = new Map<string, number>();
  let total = 0;
  return {
    /** Takes a slot for the organization; the returned function gives it back (once). */
    take(organizationId: string): () => void {
      const own = byOrg.get(organizationId) ?? 0;
      if (own >= limits.maxStreamsPerOrg || total >= limits.maxStreams) {
        const perOrg = own >= limits.maxStreamsPerOrg;
        throw new RateLimitedError(
          RETRY_AFTER_SECONDS,
          { reason: 'too_many_streams', scope: perOrg ? 'organization' : 'server', limit: perOrg ? limits.maxStreamsPerOrg : limits.maxStreams },
          perOrg ? 'Too many open event streams for this organization' : 'Too many open event streams on this server',
        );
      }
      byOrg.set(organizationId, own + 1);
      total += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const n = (byOrg.get(organizationId) ?? 1) - 1;
        if (n > 0) byOrg.set(organizationId, n);
        else byOrg.delete(organizationId);
      };
    },
    open: () => total,
  };
}
export type StreamSlots = ReturnType<typeof createStreamSlots>;
