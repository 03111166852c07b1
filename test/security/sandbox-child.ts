/** The whole bot (the sandbox) in a child process, so a test can watch it from outside — and kill it if it hangs. */
import { startSandbox } from '../../src/cli/sandbox.js';
import { PLATFORM_MODULES } from '../helpers/platforms.js';

const prefix = process.argv[2]!;
const sb = await startSandbox({ port: 0, quiet: true, prefix, platforms: PLATFORM_MODULES });
process.send?.({ url: sb.url, adminToken: sb.adminToken });
