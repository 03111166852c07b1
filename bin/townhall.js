#!/usr/bin/env -S node --max-semi-space-size=32
// (The V8 flag: a larger young generation for the per-message path; why in src/app/node-flags.ts.)
// The `townhall` command. TypeScript sources run through tsx's loader, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
