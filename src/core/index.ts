/**
 * The border: everything an adapter (adapters/<platform>) or a fake (fakes/<platform>) may import from Townhall.
 * The events adapters publish, the actions they perform, the prefixed ids, the platform registry's entries, the
 * adapter interface and what it is given, the one error type platforms fail with, and the sandbox's fake interface.
 * Adapters import this module and the adapter kit (adapters/kit) only; the rule is in eslint.config.js.
 */
export { ACTION_VERSION, ActionSchema, PRIORITIES, type Action, type ActionInput, type ActionOf, type ActionResult, type ActionType, type DistributiveOmit, type PriorityClass } from './actions.js';
export { CHAT_EVENT_VERSION, ChatEventSchema, EVENT_KINDS, MAX_TEXT_CHARS, parseChatEvent, type ChatEvent, type ChatEventInput, type ChatEventKind, type ChatUser } from './events.js';
export { baseChat, chatKey, parseChatKey, parseUserKey, platformOf, PlatformSchema, userKey, type ChatRef } from './ids.js';
export { PlatformError, type PlatformErrorScope } from './errors.js';
export { makeEventId } from './adapter.js';
export { BOT_USERNAME, parseCommand, type ParsedCommand } from '../commands/parser.js';
export type { AdapterDeps, AdapterFactory, AdapterRegistry, AdapterSettings, AdapterStatus, AdapterStore, InboundSink, OutboundControl, OutboundLimits, PlatformAction, PlatformAdapter, RateBudget } from './adapter.js';
export type { FakeFactory, FakeRegistry, OutboxEntry, SandboxMessageInput, SandboxPlatform, SandboxUser } from './sandbox.js';
export { capabilitiesOf, isPlatform, platformInfo, PLATFORMS, REGISTRY, type Capabilities, type ModerationVerb, type Platform, type PlatformDescriptor } from '../platform/index.js';
