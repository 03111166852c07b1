/** Mounts the dashboard's pages (src/http/dashboard) at the root of the server. */
import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps } from '../pipeline/context.js';
import { dashboardRoutes } from './dashboard/index.js';

/** The dashboard plugins, bound to the core's dependencies. */
export async function dashboardPlugins(deps: CoreDeps, adminToken: string | undefined): Promise<FastifyPluginAsync[]> {
  return [async (app) => app.register(dashboardRoutes, { deps, adminToken })];
}
