// A local HTTP server speaking enough of the OpenAI and Anthropic wire APIs for the real SDK
// clients: chat completions with images, multipart audio transcriptions and translations, the
// Messages API with image blocks, and each provider's error replies in its own JSON shape.
// It records what it received and lets a test script the next replies. CI has no internet.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeProvider = 'openai' | 'anthropic';
export type FailureKind = 'unauthorized' | 'rate_limited' | 'server_error' | 'bad_request';

export interface UploadedFile {
  field: string;
  filename: string;
  type: string;
  bytes: Buffer;
}
export interface RecordedRequest {
  provider: FakeProvider;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** JSON bodies. */
  json?: Record<string, any>;
  /** Multipart bodies: text fields (repeated ones as arrays) and files. */
  fields?: Record<string, string | string[]>;
  files?: UploadedFile[];
  status: number;
  /** The usage the reply reported, so tests can compare what was recorded. */
  usage?: { input: number; output: number };
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (client timeouts). */
  delayMs?: number;
}

export const OPENAI_KEY = 'sk-test-openai-0123456789';
export const ANTHROPIC_KEY = 'sk-ant-test-0123456789';

/** What the fake "models" answer by default: tests compare results with these, not with literals. */
export const FAKE_OCR = {
  text: 'INVOICE 42\nTotal 13.37',
  blocks: [
    { text: 'INVOICE 42', confidence: 0.97, bbox: { left: 10, top: 8, width: 120, height: 20 } },
    { text: 'Total 13.37', confidence: 0.91, bbox: { left: 10, top: 40, width: 110, height: 18 } },
  ],
};
export const FAKE_DESCRIPTION = {
  caption: 'A red square on a white background.',
  tags: ['red', 'square', 'minimal'],
  objects: [{ label: 'square', confidence: 0.88 }],
  safety: { adult: false, violence: false, medical: false, racy: false },
};
/** Sentences spoken, spread evenly over the uploaded audio's duration. */
export const FAKE_SPEECH = ['Hello there.', 'General Kenobi.'];
export const FAKE_LANGUAGE = 'english';

const AUDIO_EXTENSIONS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
const ANTHROPIC_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

export interface FakeAiServer {
  url: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  /** Environment for a harness: base URLs and keys aimed at this server. */
  env: Record<string, string>;
  requests: RecordedRequest[];
  /** The next `times` requests to `provider` get this error reply. */
  failNext(provider: FakeProvider, kind: FailureKind, times?: number): void;
  /** The next request to `provider` gets this reply instead of the default one. */
  enqueue(provider: FakeProvider, reply: Reply): void;
  /** The next chat/messages reply's text is `content` (with the usual envelope). */
  enqueueContent(provider: FakeProvider, content: string): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeAiServer(): Promise<FakeAiServer> {
  const requests: RecordedRequest[] = [];
  const queues: Record<FakeProvider, ((req: RecordedRequest) => Reply)[]> = { openai: [], anthropic: [] };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: { message: String(err), type: 'server_error' } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0]!;
    const provider: FakeProvider = path === '/v1/messages' ? 'anthropic' : 'openai';
    const raw = await readBody(req);
    const rec: RecordedRequest = { provider, method: req.method ?? 'GET', path, headers: req.headers, status: 0 };
    const type = String(req.headers['content-type'] ?? '');
    if (type.startsWith('application/json')) rec.json = JSON.parse(raw.toString('utf8') || '{}');
    if (type.startsWith('multipart/form-data')) Object.assign(rec, await parseMultipart(raw, type));
    requests.push(rec);

    const scripted = queues[provider].shift();
    const reply = authFailure(rec) ?? scripted?.(rec) ?? (provider === 'anthropic' ? anthropicMessages(rec) : openaiRoute(rec));
    rec.status = reply.status;
    const usage = (reply.body as { usage?: Record<string, number> } | undefined)?.usage;
    if (reply.status === 200 && usage) {
      rec.usage = { input: usage.prompt_tokens ?? usage.input_tokens ?? 0, output: usage.completion_tokens ?? usage.output_tokens ?? 0 };
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (!res.destroyed) send(res, reply.status, reply.body, reply.headers);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    env: { OPENAI_BASE_URL: `${url}/v1`, OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: ANTHROPIC_KEY },
    requests,
    failNext(provider, kind, times = 1) {
      for (let i = 0; i < times; i++) queues[provider].push(() => failure(provider, kind));
    },
    enqueue(provider, reply) {
      queues[provider].push(() => reply);
    },
    enqueueContent(provider, content) {
      queues[provider].push((rec) => (provider === 'anthropic' ? anthropicEnvelope(rec, content) : chatEnvelope(rec, content)));
    },
    reset() {
      requests.length = 0;
      queues.openai.length = 0;
      queues.anthropic.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- authentication and error replies, in each provider's shape ----

function authFailure(rec: RecordedRequest): Reply | undefined {
  if (rec.provider === 'anthropic') {
    if (!rec.headers['anthropic-version']) return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required');
    return presentedKey(rec) === ANTHROPIC_KEY ? undefined : failure('anthropic', 'unauthorized');
  }
  return rec.headers.authorization === `Bearer ${OPENAI_KEY}` ? undefined : failure('openai', 'unauthorized', String(rec.headers.authorization ?? ''));
}

/** The key a request carried: Anthropic takes `x-api-key` or (SDK 1.x) `Authorization: Bearer`, OpenAI the latter. */
export function presentedKey(rec: RecordedRequest): string | undefined {
  const header = rec.headers['x-api-key'] ?? rec.headers.authorization;
  return typeof header === 'string' ? header.replace(/^Bearer /, '') : undefined;
}

function failure(provider: FakeProvider, kind: FailureKind, presentedAuth = ''): Reply {
  if (provider === 'anthropic') {
    switch (kind) {
      case 'unauthorized':
        return anthropicError(401, 'authentication_error', 'invalid x-api-key');
      case 'rate_limited':
        return { ...anthropicError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), headers: { 'retry-after': '1' } };
      case 'server_error':
        return anthropicError(500, 'api_error', 'Internal server error');
      case 'bad_request':
        return anthropicError(400, 'invalid_request_error', 'messages.0.content.0.image.source.base64: invalid base64 data');
    }
  }
  switch (kind) {
    case 'unauthorized': {
      // The real API echoes the start of the key it was given.
      const shown = presentedAuth.replace(/^Bearer /, '').slice(0, 8) || 'sk-wrong';
      return openaiError(401, `Incorrect API key provided: ${shown}***. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key');
    }
    case 'rate_limited':
      return { ...openaiError(429, 'Rate limit reached for requests. Please try again in 1s.', 'requests', 'rate_limit_exceeded'), headers: { 'retry-after': '1' } };
    case 'server_error':
      return openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
    case 'bad_request':
      return openaiError(400, 'Invalid request: the image could not be processed.', 'invalid_request_error', null);
  }
}

const openaiError = (status: number, message: string, type: string, code: string | null, param: string | null = null): Reply => ({
  status,
  body: { error: { message, type, param, code } },
});
const anthropicError = (status: number, type: string, message: string): Reply => ({
  status,
  body: { type: 'error', error: { type, message }, request_id: `req_fake${Date.now()}` },
});

// ---- OpenAI ----

function openaiRoute(rec: RecordedRequest): Reply {
  if (rec.method === 'POST' && rec.path === '/v1/chat/completions') return chatCompletion(rec);
  if (rec.method === 'POST' && rec.path === '/v1/audio/transcriptions') return audio(rec, 'transcribe');
  if (rec.method === 'POST' && rec.path === '/v1/audio/translations') return audio(rec, 'translate');
  return openaiError(404, `Invalid URL (${rec.method} ${rec.path})`, 'invalid_request_error', null);
}

function chatCompletion(rec: RecordedRequest): Reply {
  const body = rec.json ?? {};
  if (!body.model || !Array.isArray(body.messages)) return openaiError(400, "Missing required parameter: 'model' or 'messages'.", 'invalid_request_error', null);
  const system = body.messages.find((m: { role: string }) => m.role === 'system')?.content ?? '';
  const user = body.messages.find((m: { role: string }) => m.role === 'user')?.content;
  const images = Array.isArray(user) ? user.filter((p: { type: string }) => p.type === 'image_url') : [];
  for (const img of images) {
    if (!/^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+=*$/.test(img.image_url?.url ?? '')) {
      return openaiError(400, 'Invalid image_url: expected a base64 data URL of a supported image.', 'invalid_request_error', 'invalid_image_url');
    }
  }
  let content = '{}';
  if (/OCR/.test(system) && images.length) content = JSON.stringify(FAKE_OCR);
  else if (/Describe the image/.test(system) && images.length) content = JSON.stringify(FAKE_DESCRIPTION);
  else if (/^Translate/.test(system)) {
    const { texts } = JSON.parse(typeof user === 'string' ? user : '{}') as { texts?: string[] };
    const lang = /code "([^"]+)"/.exec(system)?.[1] ?? '?';
    content = JSON.stringify({ translations: (texts ?? []).map((t) => `[${lang}] ${t}`) });
  }
  return chatEnvelope(rec, content);
}

function chatEnvelope(rec: RecordedRequest, content: string): Reply {
  const input = Math.ceil(JSON.stringify(rec.json ?? {}).length / 1000) + 50;
  const output = Math.ceil(content.length / 4);
  return {
    status: 200,
    body: {
      id: `chatcmpl-fake${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: rec.json?.model ?? 'unknown',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
    },
  };
}

function audio(rec: RecordedRequest, task: 'transcribe' | 'translate'): Reply {
  const fields = rec.fields ?? {};
  const file = rec.files?.find((f) => f.field === 'file');
  const model = String(fields.model ?? '');
  const format = String(fields.response_format ?? 'json');
  const granularities = ([] as string[]).concat(fields['timestamp_granularities[]'] ?? []);
  if (!file) return openaiError(400, "Missing required parameter: 'file'.", 'invalid_request_error', null, 'file');
  if (!model) return openaiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', null, 'model');
  const ext = file.filename.split('.').pop()?.toLowerCase() ?? '';
  if (!AUDIO_EXTENSIONS.includes(ext)) {
    return openaiError(400, `Invalid file format. Supported formats: ${JSON.stringify(AUDIO_EXTENSIONS)}`, 'invalid_request_error', null);
  }
  const whisper = model === 'whisper-1';
  const diarize = model === 'gpt-4o-transcribe-diarize';
  const allowed = whisper ? ['json', 'text', 'srt', 'verbose_json', 'vtt'] : diarize ? ['json', 'text', 'diarized_json'] : ['json', 'text'];
  if (task === 'translate' && !whisper) return openaiError(400, `Model ${model} does not support translations.`, 'invalid_request_error', null, 'model');
  if (!allowed.includes(format)) {
    return openaiError(400, `response_format '${format}' is not compatible with model '${model}'.`, 'invalid_request_error', 'unsupported_value', 'response_format');
  }
  if (granularities.length && format !== 'verbose_json') {
    return openaiError(400, 'timestamp_granularities requires response_format verbose_json.', 'invalid_request_error', null);
  }

  const duration = wavDuration(file.bytes) ?? 2;
  const speech = FAKE_SPEECH;
  const step = duration / speech.length;
  const segments = speech.map((text, i) => ({ id: i, start: round(i * step), end: round((i + 1) * step), text }));
  const text = speech.join(' ');
  const tokens = { type: 'tokens', input_tokens: Math.ceil(file.bytes.length / 1000), output_tokens: text.split(' ').length * 2, total_tokens: 0 };
  tokens.total_tokens = tokens.input_tokens + tokens.output_tokens;

  if (format === 'text') return { status: 200, body: text };
  if (format === 'json') return { status: 200, body: whisper ? { text } : { text, usage: tokens } };
  if (format === 'diarized_json') {
    return {
      status: 200,
      body: {
        task: 'transcribe',
        duration,
        text,
        segments: segments.map((s, i) => ({ type: 'transcript.text.segment', id: `seg_${i}`, start: s.start, end: s.end, text: s.text, speaker: i % 2 ? 'B' : 'A' })),
        usage: tokens,
      },
    };
  }
  // verbose_json (whisper-1): segments unless only words were asked for; words when asked for.
  const words = segments.flatMap((s) => {
    const ws = s.text.split(' ');
    const w = (s.end - s.start) / ws.length;
    return ws.map((word, i) => ({ word: word.replace(/[.,!?]$/, ''), start: round(s.start + i * w), end: round(s.start + (i + 1) * w) }));
  });
  return {
    status: 200,
    body: {
      task,
      language: task === 'translate' ? 'english' : typeof fields.language === 'string' ? fields.language : FAKE_LANGUAGE,
      duration,
      text,
      ...(granularities.length === 0 || granularities.includes('segment')
        ? { segments: segments.map((s) => ({ ...s, text: ` ${s.text}`, seek: 0, tokens: [50364], temperature: 0, avg_logprob: -0.2, compression_ratio: 1.1, no_speech_prob: 0.01 })) }
        : {}),
      ...(granularities.includes('word') ? { words } : {}),
      usage: { type: 'duration', seconds: Math.ceil(duration) },
    },
  };
}

// ---- Anthropic ----

function anthropicMessages(rec: RecordedRequest): Reply {
  if (rec.method !== 'POST' || rec.path !== '/v1/messages') return anthropicError(404, 'not_found_error', `Not found: ${rec.path}`);
  const body = rec.json ?? {};
  if (!body.model) return anthropicError(400, 'invalid_request_error', 'model: Field required');
  if (typeof body.max_tokens !== 'number') return anthropicError(400, 'invalid_request_error', 'max_tokens: Field required');
  if (!Array.isArray(body.messages) || !body.messages.length) return anthropicError(400, 'invalid_request_error', 'messages: Field required');
  const blocks = body.messages.flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []));
  const images = blocks.filter((b: { type: string }) => b.type === 'image');
  for (const img of images) {
    if (img.source?.type !== 'base64' || !ANTHROPIC_IMAGE_TYPES.includes(img.source.media_type) || !/^[A-Za-z0-9+/]+=*$/.test(img.source.data ?? '')) {
      return anthropicError(400, 'invalid_request_error', 'messages.0.content.0.image.source: invalid image source');
    }
  }
  const system = typeof body.system === 'string' ? body.system : '';
  let content = '{}';
  if (/OCR/.test(system) && images.length) content = JSON.stringify(FAKE_OCR);
  else if (/Describe the image/.test(system) && images.length) content = '```json\n' + JSON.stringify(FAKE_DESCRIPTION) + '\n```';
  return anthropicEnvelope(rec, content);
}

function anthropicEnvelope(rec: RecordedRequest, text: string): Reply {
  const input = Math.ceil(JSON.stringify(rec.json ?? {}).length / 1000) + 40;
  const output = Math.ceil(text.length / 4);
  return {
    status: 200,
    body: {
      id: `msg_fake${Date.now()}`,
      type: 'message',
      role: 'assistant',
      model: rec.json?.model ?? 'unknown',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: output },
    },
  };
}

// ---- plumbing ----

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<{ fields: Record<string, string | string[]>; files: UploadedFile[] }> {
  const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
  const fields: Record<string, string | string[]> = {};
  const files: UploadedFile[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      const prev = fields[name];
      fields[name] = prev === undefined ? value : ([] as string[]).concat(prev, value);
    } else {
      files.push({ field: name, filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
    }
  }
  return { fields, files };
}

/** Duration of a PCM WAV from its header, so fake timestamps fit the real file. */
function wavDuration(bytes: Buffer): number | undefined {
  if (bytes.length < 44 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  let byteRate = 0;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ') byteRate = bytes.readUInt32LE(offset + 16);
    if (id === 'data' && byteRate) return round(Math.min(size, bytes.length - offset - 8) / byteRate);
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
