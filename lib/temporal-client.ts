import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config.js';
import { dataConverter } from './payload-codec.js';
import { connectionOptions } from './temporal-connection.js';

/**
 * The API's Temporal client; the interceptor carries the request's trace into the workflow, the
 * data converter encrypts what goes into history (lib/payload-codec.ts).
 */
export async function createTemporalClient(temporal: Config['temporal']): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(temporal));
  return new Client({
    connection,
    namespace: temporal.namespace,
    dataConverter: dataConverter(temporal),
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}
