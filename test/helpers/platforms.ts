/** Every platform's adapter factory and fake, as the composition root (townhall.ts) hands them to the CLI. */
import { ADAPTERS } from '../../adapters/index.js';
import { FAKES } from '../../fakes/index.js';
import type { PlatformModules } from '../../src/cli/main.js';

/** What `startSandbox` and `createAdapters` get in tests. */
export const PLATFORM_MODULES: PlatformModules = { adapters: ADAPTERS, fakes: FAKES };
