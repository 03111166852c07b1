/** Mounts the dashboard's pages when the dashboard module is present. */
import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps } from '../pipeline/context.js';

/** The dashboard plugins, bound to the core's dependencies. */
export async function dashboardPlugins(deps: CoreDeps, adminToken: string | undefined): Promise<FastifyPluginAsync[]> {
  void deps;
  void adminToken;
  return [];
}
