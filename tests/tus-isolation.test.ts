// tus requests reach @tus/server only with the upload id that passed the ownership check: whatever
// else the URL carries (a query, extra or encoded segments, dot segments) never selects another
// organization's upload for HEAD, PATCH or DELETE.
import { startHarness, type Harness } from './support/harness.js';
import type { Tenant } from './support/tenants.js';

let h: Harness;
let a: Tenant;
let b: Tenant;
const TUS = { 'tus-resumable': '1.0.0' };

beforeAll(async () => {
  h = await startHarness();
  a = h.tenant;
  b = await h.newTenant({ name: 'Victim org' });
});
afterAll(async () => {
  await h?.stop();
});

async function createTus(t: Tenant, length: number): Promise<string> {
  const res = await t.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': String(length), 'upload-metadata': `filename ${Buffer.from('f.wav').toString('base64')}` } });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

const head = (t: Tenant, id: string) => t.fetch(`/api/v1/uploads/${id}`, { method: 'HEAD', headers: TUS });
const offsetOf = async (t: Tenant, id: string) => {
  const res = await head(t, id);
  expect(res.status).toBe(200);
  return Number(res.headers.get('upload-offset'));
};

/** Ways of appending the victim's id to a request for one's own upload. */
const variants = (own: string, other: string) => [
  `${own}?x=/${other}`,
  `${own}?x=%2F${other}`,
  `${own}?${other}`,
  `${own}?a=1&b=/${other}/`,
  `${own}/${other}`,
  `${own}%2F${other}`,
  `${own}%2f..%2f${other}`,
  `${own}/..%2F${other}`,
  `${own}/../${other}`,
  `${own}/.%2e/${other}`,
  `${own};/${other}`,
  `${own}/`,
  `${own}//${other}`,
  `${own}%00/${other}`,
];

describe('tus is handed only the checked upload id', () => {
  let own: string;
  let victim: string;
  beforeEach(async () => {
    own = await createTus(a, 100);
    victim = await createTus(b, 200);
  });

  test('HEAD never reads the other organization\'s upload', async () => {
    for (const path of variants(own, victim)) {
      const res = await a.fetch(`/api/v1/uploads/${path}`, { method: 'HEAD', headers: TUS });
      // Either the caller's own upload (its length, 100) or refused; never the victim's (200).
      if (res.status === 200) expect(res.headers.get('upload-length')).toBe('100');
      else expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });

  test('PATCH never appends to the other organization\'s upload; the caller\'s own still works', async () => {
    for (const path of variants(own, victim)) {
      const res = await a.fetch(`/api/v1/uploads/${path}`, {
        method: 'PATCH',
        headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
        body: 'x'.repeat(10),
      });
      expect(res.status).toBeLessThan(500);
      expect(await offsetOf(b, victim)).toBe(0);
    }
    // The plain request on the caller's own upload is unaffected.
    const res = await a.fetch(`/api/v1/uploads/${own}`, {
      method: 'PATCH',
      headers: { ...TUS, 'upload-offset': String(await offsetOf(a, own)), 'content-type': 'application/offset+octet-stream' },
      body: 'y'.repeat(10),
    });
    expect(res.status).toBe(204);
    expect(await offsetOf(b, victim)).toBe(0);
  });

  test('DELETE never terminates the other organization\'s upload', async () => {
    for (const path of variants(own, victim)) {
      const res = await a.fetch(`/api/v1/uploads/${path}`, { method: 'DELETE', headers: TUS });
      expect(res.status).toBeLessThan(500);
      expect((await head(b, victim)).status).toBe(200);
      // A terminated own upload is recreated so every variant is tried against a live one.
      if ((await head(a, own)).status !== 200) own = await createTus(a, 100);
    }
    expect(await offsetOf(b, victim)).toBe(0);
    const session = await b.fetch(`/api/v1/uploads/${victim}`);
    expect(session.status).toBe(200);
  });

  test('the other organization\'s id alone is 404, whatever is appended', async () => {
    for (const path of [victim, `${victim}?x=/${own}`, `${victim}/${own}`]) {
      const res = await a.fetch(`/api/v1/uploads/${path}`, { method: 'DELETE', headers: TUS });
      expect([404, 405]).toContain(res.status);
    }
    expect((await head(b, victim)).status).toBe(200);
  });
});
