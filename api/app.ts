import Koa from 'koa';
import { createGuard } from './auth/guard.js';
import type { ApiDeps } from './deps.js';
import { docs } from './docs.js';
import type { AppState } from './handler.js';
import { accessLog } from './middleware/access-log.js';
import { codecCors } from './middleware/codec-cors.js';
import { cors } from './middleware/cors.js';
import { webConsole } from './console.js';
import { usage } from './middleware/usage.js';
import { errorHandler } from './middleware/errors.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { inputHygiene } from './middleware/input-hygiene.js';
import { opsPort } from './middleware/ops-port.js';
import { tracing } from './middleware/tracing.js';
import { requestId } from './middleware/request-id.js';
import { loadSpec, type JsonObject } from './openapi/document.js';
import { buildRouter, methodNotAllowed } from './router.js';
import { createRoutes } from './routes.js';
import { createServices } from './services/index.js';

/**
 * The API: a Koa application whose `runBackground` starts the sweeps a serving instance runs (the
 * submission outbox's) and whose `close` finishes its background work (call it after the server stopped).
 */
export type ApiApp = Koa<AppState> & { runBackground(): void; close(): Promise<void> };

/** The Koa application; everything with side effects comes in through `deps`. */
export function createApp(deps: ApiDeps, doc: JsonObject = loadSpec()): ApiApp {
  // X-Forwarded-For is trusted for as many hops as there are proxies of ours, counted from the right.
  const proxies = deps.config.http.trustedProxyCount;
  const app = new Koa<AppState>({ proxy: proxies > 0, maxIpsCount: proxies });
  const services = createServices(deps);
  const routes = createRoutes(services, doc, {
    baseUrl: deps.config.http.publicUrl,
    bodyLimitKb: deps.config.http.bodyLimitKb,
    speakerSampleMaxBytes: deps.config.media.speakerSampleMaxBytes,
    actions: deps.actions,
    now: () => deps.clock.now(),
  });
  // Authentication, rate limits and permissions per operation, as the spec declares them.
  const guard = createGuard(
    { bearer: services.auth.authenticateBearer, apiKey: services.apiKeys.authenticate, codecSession: services.auth.authenticateCodecSession },
    services.rateLimits,
    deps.config,
  );
  const router = buildRouter(doc, routes, guard);
  // Errors are all answered by errorHandler; Koa's default listener would print them again.
  app.silent = true;
  app.use(tracing(deps.tracer));
  app.use(httpMetrics(deps.metrics));
  app.use(requestId);
  // Before metering and errors, so preflights cost nothing and error replies stay readable cross-origin.
  app.use(cors(deps.config.http.corsAllowedOrigins));
  app.use(accessLog(deps.logger));
  // Outside errorHandler, so error replies are metered with their final status.
  app.use(usage(services.usage.recordRequest, deps.logger));
  app.use(errorHandler(deps.logger));
  app.use(opsPort(deps.config.http.opsPort));
  app.use(inputHygiene());
  app.use(docs('/api/v1/openapi.json'));
  if (deps.config.console.enabled) app.use(webConsole(deps.config.console.dir));
  app.use(codecCors(deps.config.temporal.codecCorsOrigins));
  app.use(router.routes());
  app.use(methodNotAllowed(router));
  return Object.assign(app, { runBackground: () => services.dispatcher.start(), close: () => services.close() });
}
