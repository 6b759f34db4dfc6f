import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAddressPolicy, unmapIpv4 } from './address-policy.js';
import { BlockedAddressError, safeRequest } from './safe-request.js';

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
])('%s is refused by default', (address) => {
  expect(strict.refuse(address)).toMatch(/private|loopback|reserved/);
});

test.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111'])('%s is allowed', (address) => {
  expect(strict.refuse(address)).toBeNull();
});

test('IPv4-mapped IPv6 addresses are unmapped in both notations', () => {
  expect(unmapIpv4('::ffff:169.254.169.254')).toBe('169.254.169.254');
  expect(unmapIpv4('::FFFF:a9fe:a9fe')).toBe('169.254.169.254');
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

test('redirects are not followed unless asked, and every hop is checked when they are', async () => {
  const viaAllowed = await safeRequest(`http://127.0.0.1:${port}/redirect-to-loopback`, { policy: loopbackAllowed, timeoutMs: 2000 });
  expect(viaAllowed.status).toBe(302);
  viaAllowed.body.resume();
  const followed = await safeRequest(`http://127.0.0.1:${port}/redirect-to-loopback`, { policy: loopbackAllowed, timeoutMs: 2000, maxRedirects: 3 });
  expect(followed.status).toBe(200);
  followed.body.resume();
});
