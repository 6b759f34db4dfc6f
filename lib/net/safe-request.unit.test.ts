import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAddressPolicy, unmapIpv4 } from './address-policy.js';
import { BlockedAddressError, RequestFailedError, safeRequest } from './safe-request.js';

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/redirect-to-loopback') res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

const strict = createAddressPolicy();
const loopbackAllowed = createAddressPolicy(['127.0.0.0/8', '::1/128']);

test.each([
  '127.0.0.1',
  '10.1.2.3',
  '172.20.0.1',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  'fe80::1',
  'fd00::1',
  // Special-purpose IPv6 ranges, several of which carry an IPv4 address a relay would reach.
  'fec0::1', // site-local
  '2002:7f00:1::1', // 6to4 of 127.0.0.1
  '2002:a9fe:a9fe::', // 6to4 of 169.254.169.254
  '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
  '64:ff9b:1::a00:1', // local-use NAT64
  '::7f00:1', // IPv4-compatible 127.0.0.1
  '::a9fe:a9fe',
  '::',
  '2001::1', // Teredo
  '2001:2::1', // benchmarking
  '2001:db8::1',
  '3fff::1',
  '5f00::1',
  '100::1',
  'ff02::1',
  'fe80::1%eth0',
  // IPv4 in IPv6 clothing, in every spelling: judged as the IPv4 address.
  '::ffff:10.0.0.1',
  '::ffff:a00:1',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  '0000:0000:0000:0000:0000:ffff:7f00:0001',
  '::FFFF:C0A8:0101',
  '::ffff:0:7f00:1', // IPv4-translated
  '::ffff:0:0',
  '192.88.99.1',
  '255.255.255.255',
])('%s is refused by default', (address) => {
  expect(strict.refuse(address)).toMatch(/private|loopback|reserved/);
});

test('a refusal never names the address', () => {
  for (const address of ['10.1.2.3', '::ffff:a9fe:a9fe', 'fd12:3456::1']) {
    const why = strict.refuse(address)!;
    expect(why).not.toContain(address);
    expect(why).not.toMatch(/\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:/i);
  }
});

test.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:93.184.216.34', '::ffff:0:5db8:d822', '2001:4860:4860::8888'])('%s is allowed', (address) => {
  expect(strict.refuse(address)).toBeNull();
});

test('IPv4-mapped and -translated IPv6 addresses are unmapped in every notation', () => {
  expect(unmapIpv4('::ffff:169.254.169.254')).toBe('169.254.169.254');
  expect(unmapIpv4('::FFFF:a9fe:a9fe')).toBe('169.254.169.254');
  expect(unmapIpv4('0:0:0:0:0:ffff:a9fe:a9fe')).toBe('169.254.169.254');
  expect(unmapIpv4('::ffff:0:169.254.169.254')).toBe('169.254.169.254');
  expect(unmapIpv4('2606:4700:4700:0:0:0:0:1111')).toBe('2606:4700:4700::1111');
  expect(unmapIpv4('example.com')).toBe('example.com');
});

test.each([
  (p: number) => `http://127.0.0.1:${p}/ok`,
  (p: number) => `http://[::ffff:127.0.0.1]:${p}/ok`,
  (p: number) => `http://localhost:${p}/ok`,
  () => 'http://169.254.169.254/latest/meta-data/',
  () => 'file:///etc/passwd',
  (p: number) => `http://user:pw@127.0.0.1:${p}/`,
])('a request to a refused target never connects (%#)', async (target) => {
  await expect(safeRequest(target(port), { policy: strict, timeoutMs: 2000 })).rejects.toBeInstanceOf(BlockedAddressError);
});

test('an allow-list lets an on-premises receiver through, and the peer address is reported', async () => {
  const res = await safeRequest(`http://localhost:${port}/ok`, { policy: loopbackAllowed, timeoutMs: 2000 });
  expect(res.status).toBe(200);
  expect(res.remoteAddress).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
  res.body.resume();
});

test('a failed connection says what happened, never where', async () => {
  // A port nothing listens on: Node's own message would be "connect ECONNREFUSED 127.0.0.1:<port>".
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const unused = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const err = (await safeRequest(`http://localhost:${unused}/`, { policy: loopbackAllowed, timeoutMs: 2000 }).catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(RequestFailedError);
  expect(err.message).toBe('the connection was refused (ECONNREFUSED)');
  expect((err as RequestFailedError).detail).toContain(String(unused));
  // A name resolving to a refused address: the name is the caller's, the address is not said.
  const blocked = (await safeRequest(`http://localhost:${port}/ok`, { policy: strict, timeoutMs: 2000 }).catch((e: unknown) => e)) as Error;
  expect(blocked).toBeInstanceOf(BlockedAddressError);
  expect(blocked.message).not.toMatch(/127\.0\.0\.1|::1/);
});

test('redirects are not followed unless asked, and every hop is checked when they are', async () => {
  const viaAllowed = await safeRequest(`http://127.0.0.1:${port}/redirect-to-loopback`, { policy: loopbackAllowed, timeoutMs: 2000 });
  expect(viaAllowed.status).toBe(302);
  viaAllowed.body.resume();
  const followed = await safeRequest(`http://127.0.0.1:${port}/redirect-to-loopback`, { policy: loopbackAllowed, timeoutMs: 2000, maxRedirects: 3 });
  expect(followed.status).toBe(200);
  followed.body.resume();
});
