import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { AddressPolicy } from './address-policy.js';

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
}

/**
 * The request failed on the network. The message names what happened and never the address it
 * happened at: Node's own messages do (`connect ECONNREFUSED 10.0.0.5:80`), and they reach tenants
 * as webhook and import errors. `detail` keeps Node's message for logs.
 */
export class RequestFailedError extends Error {
  override name = 'RequestFailedError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail: string,
  ) {
    super(message);
  }
}

export interface SafeRequestOptions {
  policy: AddressPolicy;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Until the response headers arrive, per hop. */
  timeoutMs: number;
  /** 0 (the default) returns a redirect as it is; otherwise each hop is checked like the first. */
  maxRedirects?: number;
  signal?: AbortSignal;
}

export interface SafeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
  url: string;
  /** The address actually connected to. */
  remoteAddress: string;
}

/**
 * An HTTP(S) request that cannot reach addresses the policy refuses: literal IPs are checked,
 * names are resolved and checked, and the socket's peer is checked again once connected — so a
 * name that resolves differently the second time (DNS rebinding) is still caught.
 */
export async function safeRequest(url: string, opts: SafeRequestOptions): Promise<SafeResponse> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, opts);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location && hop < (opts.maxRedirects ?? 0)) {
      res.body.resume();
      current = new URL(location, current);
      continue;
    }
    return res;
  }
}

function requestOnce(url: URL, opts: SafeRequestOptions): Promise<SafeResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new BlockedAddressError(`scheme ${url.protocol} is not allowed`));
  }
  if (url.username || url.password) return Promise.reject(new BlockedAddressError('credentials in URLs are not allowed'));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const why = opts.policy.refuse(host);
    if (why) return Promise.reject(new BlockedAddressError(why));
  }
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const usable = addresses.find((a) => !opts.policy.refuse(a.address));
      if (!usable) {
        const why = addresses.map((a) => opts.policy.refuse(a.address)).find(Boolean) ?? 'no address';
        return callback(new BlockedAddressError(`${hostname} resolves to a refused address: ${why}`), '', 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof addresses) => void)(null, [usable]);
      callback(null, usable.address, usable.family);
    });
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let remoteAddress = '';
    const req = request(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      lookup,
      agent: false,
      timeout: opts.timeoutMs,
      signal: opts.signal,
    });
    req.on('socket', (socket: Socket) => {
      const check = () => {
        remoteAddress = socket.remoteAddress ?? '';
        const why = opts.policy.refuse(remoteAddress);
        if (why) req.destroy(new BlockedAddressError(`connected to a refused address: ${why}`));
      };
      if (socket.remoteAddress) check();
      else socket.once('connect', check);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => reject(publicError(err)));
    req.on('response', (res: IncomingMessage) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: url.href, remoteAddress });
    });
    req.end(opts.body);
  });
}

/** What a failed request may tell the caller: ours as they are, Node's without the address. */
function publicError(err: Error): Error {
  if (err instanceof BlockedAddressError || err.name === 'AbortError' || err.message.startsWith('no response within')) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new RequestFailedError(`${describeNetworkError(code)}${code ? ` (${code})` : ''}`, code, err.message);
}

function describeNetworkError(code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was reset';
    case 'ETIMEDOUT':
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'the server could not be reached';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'the host name does not resolve';
    default:
      if (code && /CERT|TLS|SSL/.test(code)) return 'the TLS handshake failed';
      return 'the request failed';
  }
}
