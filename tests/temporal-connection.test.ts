// Temporal connection settings (TEMPORAL_TLS*, TEMPORAL_API_KEY) from the environment to the options
// that the API's Connection and the worker's NativeConnection receive.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '#lib/config.js';
import { connectionOptions } from '#lib/temporal-connection.js';

const temporalOf = (env: Record<string, string>) => loadConfig(env).temporal;

test('plaintext without an API key by default', () => {
  expect(connectionOptions(temporalOf({ TEMPORAL_ADDRESS: 'temporal:7233' }))).toEqual({ address: 'temporal:7233', tls: false });
});

test('an API key switches TLS on unless TEMPORAL_TLS says otherwise', () => {
  expect(connectionOptions(temporalOf({ TEMPORAL_API_KEY: 'k-1' }))).toMatchObject({ apiKey: 'k-1', tls: {} });
  expect(connectionOptions(temporalOf({ TEMPORAL_API_KEY: 'k-1', TEMPORAL_TLS: 'false' }))).toMatchObject({ apiKey: 'k-1', tls: false });
});

test('CA and client certificate pair are read from the configured files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mediaflow-tls-'));
  try {
    for (const name of ['ca.crt', 'tls.crt', 'tls.key']) writeFileSync(path.join(dir, name), `pem of ${name}`);
    const options = connectionOptions(
      temporalOf({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CA_PATH: path.join(dir, 'ca.crt'),
        TEMPORAL_TLS_CERT_PATH: path.join(dir, 'tls.crt'),
        TEMPORAL_TLS_KEY_PATH: path.join(dir, 'tls.key'),
      }),
    );
    const tls = options.tls === false ? undefined : options.tls;
    expect(tls?.serverRootCACertificate?.toString()).toBe('pem of ca.crt');
    expect(tls?.clientCertPair?.crt.toString()).toBe('pem of tls.crt');
    expect(tls?.clientCertPair?.key.toString()).toBe('pem of tls.key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing certificate file fails at start-up, naming the file', () => {
  const temporal = temporalOf({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_CA_PATH: '/nonexistent/mediaflow-ca.crt' });
  expect(() => connectionOptions(temporal)).toThrow('/nonexistent/mediaflow-ca.crt');
});

test('inconsistent TLS settings are configuration errors', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };
  expect(problemsOf({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_CERT_PATH: '/c.crt' }).join('\n')).toContain('TEMPORAL_TLS_KEY_PATH');
  expect(problemsOf({ TEMPORAL_TLS_CA_PATH: '/ca.crt' }).join('\n')).toContain('TEMPORAL_TLS=true');
  expect(problemsOf({ TEMPORAL_TLS: 'yes' }).join('\n')).toContain('TEMPORAL_TLS');
});

// The test Temporal server speaks plaintext: the options must reach both SDK connection kinds as given.
describe('against the test Temporal server', () => {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

  test('plaintext options connect the client and the worker connection', async () => {
    const options = connectionOptions(temporalOf({ TEMPORAL_ADDRESS: address }));
    const client = await Connection.connect(options);
    await client.workflowService.getSystemInfo({});
    await client.close();
    const native = await NativeConnection.connect(options);
    await native.close();
  });

  test('TLS options are honoured: a TLS handshake with a plaintext server fails', async () => {
    const options = connectionOptions(temporalOf({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true' }));
    await expect(NativeConnection.connect(options)).rejects.toThrow();
    const client = await Connection.connect({ ...options, connectTimeout: 3000 }).catch((err: unknown) => err);
    if (client instanceof Connection) {
      // The client connects lazily; the first call is where TLS meets plaintext.
      await expect(client.workflowService.getSystemInfo({})).rejects.toThrow();
      await client.close();
    } else {
      expect(client).toBeInstanceOf(Error);
    }
  });
});
