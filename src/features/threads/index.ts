// Public surface of the threads feature (reply-link disentanglement); evaluation lives in eval.ts so
// the hot path does not pull in corpus readers.
export { ThreadLinker, linkMessage, prepare, defaultWeights, compileWeights, FEATURE_NAMES } from './model.js';
export type { CompiledModel, LinkedMessage, LinkerOptions, WindowMessage } from './model.js';
export type { ChatMessage, LinkResult, PreparedMessage, ThreadWeights } from './types.js';
