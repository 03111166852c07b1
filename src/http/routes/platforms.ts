/** GET /api/platforms: the platform registry as clients need it (ids, names, colours, message limits, capabilities). */
import { platformsForClients } from '../../platform/index.js';
import type { RoutePlugin } from '../server.js';

/** The platforms route: the dashboard draws badges, chart series and limits from it instead of knowing platforms itself. */
export const platformRoutes: RoutePlugin = async (app) => {
  const body = { platforms: platformsForClients() };
  app.get('/platforms', async () => body);
};
