/** The API route plugins mounted under /api. */
import type { RoutePlugin } from '../server.js';
import { amaRoutes } from './amas.js';
import { chatRoutes } from './chats.js';
import { modlogRoutes } from './modlog.js';
import { platformRoutes } from './platforms.js';

/** Every API route plugin. */
export async function apiRoutes(): Promise<RoutePlugin[]> {
  return [amaRoutes, chatRoutes, modlogRoutes, platformRoutes];
}
