import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config.js';
import { connectionOptions } from './temporal-connection.js';

/** The API's Temporal client; the interceptor carries the request's trace into the workflow. */
export async function createTemporalClient(temporal: Config['temporal']): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(temporal));
  return new Client({
    connection,
    namespace: temporal.namespace,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}
