import Koa from 'koa';
import { DEFAULT_ORGANIZATION_ID } from '../entities/index.js';
import type { ApiDeps } from './deps.js';
import { docs } from './docs.js';
import type { AppState } from './handler.js';
import { errorHandler } from './middleware/errors.js';
import { requestId } from './middleware/request-id.js';
import { loadSpec, type JsonObject } from './openapi/document.js';
import { buildRouter, methodNotAllowed } from './router.js';
import { createRoutes } from './routes.js';
import { createServices } from './services/index.js';

/** The Koa application; everything with side effects comes in through `deps`. */
export function createApp(deps: ApiDeps, doc: JsonObject = loadSpec()): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: deps.config.http.trustProxy });
  const routes = createRoutes(createServices(deps), doc, {
    baseUrl: deps.config.http.publicUrl,
    bodyLimitKb: deps.config.http.bodyLimitKb,
    actions: deps.actions,
  });
  const router = buildRouter(doc, routes);
  // Errors are all answered by errorHandler; Koa's default listener would print them again.
  app.silent = true;
  app.use(requestId);
  app.use(errorHandler(deps.logger));
  app.use(async function tenant(ctx, next) {
    // Until identity lands every request acts for the default organization.
    ctx.state.organizationId = DEFAULT_ORGANIZATION_ID;
    await next();
  });
  app.use(docs('/api/v1/openapi.json'));
  app.use(router.routes());
  app.use(methodNotAllowed(router));
  return app;
}
