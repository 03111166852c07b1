/** Assembles the core pipeline: dedupe → moderation → history → commands → features (AMA). */
import { CommandRegistry, helpCommand } from '../commands/router.js';
import { createHistory } from '../features/history/index.js';
import { createModeration } from '../features/moderation/index.js';
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
  const history = createHistory(deps);
  const moderation = createModeration(deps);
  const before: Feature[] = [moderation.feature];
  const after: Feature[] = [];
  registry.register(...history.commands, ...moderation.commands, helpCommand(registry));
  const handleEvent = createHandleEvent(deps, [...before, history.feature, registry.feature(), ...after]);
  return { handleEvent, registry };
}
