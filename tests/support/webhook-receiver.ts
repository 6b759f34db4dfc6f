// A real HTTP receiver on loopback for webhook tests: records every request and answers what the
// test says, per path.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
export type Responder = (req: Received, nthOnPath: number) => { status: number; headers?: Record<string, string> };

export interface Receiver {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  received: Received[];
  on(path: string, responder: Responder): void;
  /** Requests on `path`, oldest first. */
  at(path: string): Received[];
  close(): Promise<void>;
}

const answerNoContent: Responder = () => ({ status: 204 });

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const responders = new Map<string, Responder>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const entry = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(entry);
      const nth = received.filter((r) => r.path === path).length;
      const { status, headers } = (responders.get(path) ?? answerNoContent)(entry, nth);
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    on: (path, responder) => void responders.set(path, responder),
    at: (path) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
