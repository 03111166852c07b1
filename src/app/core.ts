/** Assembles the core pipeline: dedupe → moderation → history → commands → AMA intake and votes. */
import { CommandRegistry, helpCommand } from '../commands/router.js';
import { createAmaFeature, type AmaFeature } from '../features/ama/index.js';
import { createHistory } from '../features/history/index.js';
import { createModeration } from '../features/moderation/index.js';
import { durationMs } from '../config/load.js';
import { dashboardCommand } from '../http/dashboard/command.js';
import { standingFeature } from '../http/standing.js';
import { liveNotesFeature } from '../pipeline/live-notes.js';
import type { CoreDeps } from '../pipeline/context.js';
import { createHandleEvent, type Feature, type HandleEvent } from '../pipeline/handle-event.js';

/** The assembled core. */
export interface Core {
  handleEvent: HandleEvent;
  registry: CommandRegistry;
  ama: AmaFeature;
}

/** Builds the core with every feature on. */
export function buildCore(deps: CoreDeps, opts: { llmApiKey?: string | undefined; publicUrl?: string | undefined } = {}): Core {
  const registry = new CommandRegistry();
  const history = createHistory(deps, { llmApiKey: opts.llmApiKey });
  const moderation = createModeration(deps);
  // Live notes wrap everything after them, so the dashboard hears of each handled event once it is handled.
  // Standing records what adapters say of dashboard grant holders (are they still admins?); one prefetched key per event.
  const before: Feature[] = [liveNotesFeature(deps), standingFeature(deps, durationMs(deps.config.http.standingMaxAge)), moderation.feature];
  const ama = createAmaFeature(deps, opts.llmApiKey ? { llmApiKey: opts.llmApiKey } : {});
  const after: Feature[] = [ama.feature];
  registry.register(...history.commands, ...moderation.commands, ...ama.commands, dashboardCommand(opts.publicUrl ? { baseUrl: opts.publicUrl } : {}), helpCommand(registry));
  registry.setHostCheck(ama.hostCheck);
  const handleEvent = createHandleEvent(deps, [...before, history.feature, registry.feature(), ...after]);
  return { handleEvent, registry, ama };
}
