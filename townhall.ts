/**
 * The composition root of the `townhall` command: the CLI (src/), handed every platform's adapter factory
 * (adapters/) and sandbox fake (fakes/). It is the one module that sees all three; src/ never imports the other two.
 * bin/townhall.js runs its build, dist/townhall.js; tests run it from source (node --import tsx townhall.ts).
 */
import { ADAPTERS } from './adapters/index.js';
import { FAKES } from './fakes/index.js';
import { runCli } from './src/cli/main.js';

await runCli(process.argv, { adapters: ADAPTERS, fakes: FAKES });
