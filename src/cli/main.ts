/**
 * The `townhall` command line (contract §2). Heavy modules load only for the sub-command that needs them. The
 * platforms' adapters and fakes are handed in by the caller (townhall.ts, the composition root): src/ never imports them.
 */
import { Command, Option } from 'commander';
import type { AdapterRegistry } from '../core/adapter.js';
import type { FakeRegistry } from '../core/sandbox.js';
import { LOG_FORMATS, type LogFormat } from '../ingest/formats.js';
import { PLATFORMS, type Platform } from '../core/ids.js';
import { PLATFORM_PREFIX_PATTERN, platformNames } from '../platform/index.js';
import { ConfigError } from '../config/load.js';

/** What the composition root hands the CLI: every registered platform's adapter factory and sandbox fake. */
export interface PlatformModules {
  adapters: AdapterRegistry;
  fakes: FakeRegistry;
}

/** Runs an action, printing a one-line error (not a stack trace) for expected failures. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      console.error(`townhall: ${msg}`);
      if (process.env.DEBUG && err instanceof Error && !(err instanceof ConfigError)) console.error(err.stack);
      process.exit(1);
    }
  };
}

/** Waits for SIGINT/SIGTERM, then runs `stop` once. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(1);
      stopping = true;
      void stop().finally(() => resolve());
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

/** Runs the `townhall` command with these arguments (process.argv). */
export async function runCli(argv: string[], platforms: PlatformModules): Promise<void> {
  const program = new Command();
  program.name('townhall').description(`Turns busy ${platformNames()} chats into ranked AMA threads and readable digests.`).showHelpAfterError();

  program
    .command('start')
    .description('everything in one process: adapters with credentials, core and outbound workers, scheduler, HTTP server')
    .option('--config <file>', 'YAML config file (default: TOWNHALL_CONFIG or config/townhall.yaml)')
    .action(
      run(async (o: { config?: string }) => {
        const { startAll } = await import('./start.js');
        const running = await startAll({ configFile: o.config, adapters: platforms.adapters });
        await untilSignal(running.close);
        process.exit(0);
      }),
    );

  program
    .command('worker')
    .description('an extra worker process on any machine that reaches the same Redis')
    .addOption(new Option('--role <role>', 'what to run').choices(['core', 'outbound', 'scheduler', 'all']).default('all'))
    .option('--config <file>', 'YAML config file')
    .action(
      run(async (o: { role: 'core' | 'outbound' | 'scheduler' | 'all'; config?: string }) => {
        const { startWorker } = await import('./start.js');
        const running = await startWorker({ role: o.role, configFile: o.config, adapters: platforms.adapters });
        await untilSignal(running.close);
        process.exit(0);
      }),
    );

  program
    .command('sandbox')
    .description(`local fake ${platformNames()} servers with the bot wired to them; no tokens needed`)
    .option('--port <port>', 'HTTP port', (v) => Number(v), 8080)
    .option('--replay <file>', 'a chat log to replay into it')
    .option('--rate <n>', 'replay messages per second', (v) => Number(v), 20)
    .option('--config <file>', 'YAML config file')
    .action(
      run(async (o: { port: number; replay?: string; rate: number; config?: string }) => {
        const { startSandbox } = await import('./sandbox.js');
        const sb = await startSandbox({ port: o.port, replay: o.replay, rate: o.rate, configFile: o.config, print: true, platforms });
        await untilSignal(sb.close);
        process.exit(0);
      }),
    );

  const platformOption = () => new Option('--platform <platform>', 'platform the log is treated as').choices([...PLATFORMS]).default(PLATFORMS[0]);

  program
    .command('replay <file>')
    .description('feed a chat log into the inbound queue as if it arrived live')
    .addOption(new Option('--format <format>', 'log format').choices([...LOG_FORMATS]))
    .addOption(platformOption())
    .option('--chat <id>', 'native chat id to use')
    .option('--rate <n>', 'messages per second (0 = as fast as possible)', (v) => Number(v), 0)
    .option('--limit <n>', 'stop after n messages', (v) => Number(v))
    .action(
      run(async (file: string, o: { format?: LogFormat; platform: Platform; chat?: string; rate: number; limit?: number }) => {
        const { replayCommand } = await import('./start.js');
        await replayCommand(file, { ...o, source: 'replay' });
      }),
    );

  program
    .command('import <file>')
    .description('load history (no replies, no moderation) so digests and threads cover what was said before the bot joined')
    .addOption(new Option('--format <format>', 'log format').choices(['telegram-export', 'discord-export', 'jsonl', 'irc']).makeOptionMandatory())
    .requiredOption('--chat <id>', 'prefixed or native chat id the history belongs to')
    .addOption(platformOption())
    .action(
      run(async (file: string, o: { format: LogFormat; chat: string; platform: Platform }) => {
        const { replayCommand } = await import('./start.js');
        const m = new RegExp(`${PLATFORM_PREFIX_PATTERN}(.+)$`).exec(o.chat);
        await replayCommand(file, { format: o.format, platform: (m?.[1] as Platform) ?? o.platform, chat: m?.[2] ?? o.chat, rate: 0, source: 'import' });
      }),
    );

  program
    .command('status')
    .description('queue depths, rates, failed and dead-lettered events')
    .option('--json', 'print JSON')
    .action(
      run(async (o: { json?: boolean }) => {
        const { statusCommand } = await import('./start.js');
        await statusCommand(Boolean(o.json));
      }),
    );

  const evalCmd = program.command('eval').description('quality metrics on a labelled file');
  for (const kind of ['threads', 'summaries', 'duplicates', 'merge'] as const) {
    evalCmd
      .command(kind)
      .requiredOption('--data <file>', 'labelled data file')
      .option('--json', 'print the JSON line only')
      .option('--predictions <out>', 'write what was predicted, one JSON line per item')
      .option('--method <m>', 'summaries: extractive | lead3 | longest3 | llm', 'extractive')
      .action(
        run(async (o: { data: string; json?: boolean; predictions?: string; method: string }) => {
          const { evalCommand } = await import('./eval.js');
          await evalCommand(kind, o);
        }),
      );
  }

  program
    .command('bench')
    .description('benchmarks; the last line printed is one JSON object')
    .option('--messages <n>', 'messages to ingest', (v) => Number(v), 100_000)
    .option('--json', 'print the JSON line')
    .option('--quick', 'smaller runs (for a smoke test)')
    .action(
      run(async (o: { messages: number; json?: boolean; quick?: boolean }) => {
        const { benchCommand } = await import('../../bench/run.js');
        await benchCommand(o);
      }),
    );

  const ama = program.command('ama').description('schedule, list, start, end and recap AMAs');
  ama.action(
    run(async () => {
      const { amaCommand } = await import('./ama.js');
      await amaCommand(process.argv.slice(process.argv.indexOf('ama') + 1));
    }),
  );
  ama.allowUnknownOption(true).allowExcessArguments(true);

  await program.parseAsync(argv);
}
