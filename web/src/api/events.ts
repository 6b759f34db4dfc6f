import { authFetch } from './client';
import type { JobStatus } from './types';

export interface JobEvent {
  id?: string;
  event: string;
  data: {
    status?: JobStatus;
    progress?: number;
    current_step?: number | null;
    total_steps?: number;
    step_progress?: number;
    retry_count?: number;
    error?: { code: string; message: string };
    cancelled_at?: string;
  };
}

/** Splits a text/event-stream into events (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export function parseEventStream(chunk: string, emit: (e: JobEvent) => void): string {
  const blocks = chunk.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) continue;
    try {
      emit({ id, event, data: JSON.parse(data.join('\n')) as JobEvent['data'] });
    } catch {
      /* not JSON: not one of ours */
    }
  }
  return rest;
}

/**
 * Follows GET /jobs/{id}/events with the session's credentials (EventSource cannot send an
 * Authorization header, and a token in the URL would leak), reconnecting with Last-Event-ID
 * until the job is terminal or `signal` aborts.
 */
export async function followJob(jobId: string, onEvent: (e: JobEvent) => void, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    let terminal = false;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId) headers['last-event-id'] = lastId;
      const res = await authFetch(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`, { headers, signal });
      if (res.status === 404 || res.status === 401 || res.status === 403) return;
      if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
      failures = 0;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEventStream(buffer + value, (e) => {
          if (e.id) lastId = e.id;
          if (e.data.status === 'completed' || e.data.status === 'failed' || e.data.status === 'cancelled') terminal = true;
          onEvent(e);
        });
      }
    } catch {
      if (signal.aborted) return;
      failures++;
    }
    if (terminal) return;
    await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** failures, 15_000)));
  }
}
