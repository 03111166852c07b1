/** Creates the adapters whose credentials are set (contract §4), like matterbridge's registry keyed by platform. */
import type { Runtime } from '../src/app/runtime.js';
import type { PlatformAdapter } from './types.js';

/** One adapter per platform with credentials in the environment. */
export async function createAdaptersFromEnv(rt: Runtime): Promise<PlatformAdapter[]> {
  void rt;
  return [];
}
