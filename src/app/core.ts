/** Assembles the core pipeline: dedupe → moderation → commands → features (AMA, history, digests). */
import { CommandRegistry, helpCommand } from '../commands/router.js';
import type { CoreDeps } from '../pipeline/context.js';
import { createHandleEvent, type Feature, type HandleEvent } from '../pipeline/handle-event.js';

/** The assembled core. */
export interface Core {
  handleEvent: HandleEvent;
  registry: CommandRegistry;
}

/** Builds the core with every feature on. */
export function buildCore(deps: CoreDeps): Core {
  const registry = new CommandRegistry();
  const before: Feature[] = [];
  const after: Feature[] = [];
  registry.register(helpCommand(registry));
  const handleEvent = createHandleEvent(deps, [...before, registry.feature(), ...after]);
  return { handleEvent, registry };
}
