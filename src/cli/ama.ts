/** `townhall ama schedule|list|start|end|recap`: the same operations as the chat commands and the API. */
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { openRuntime } from '../app/runtime.js';
import { amaEnd, amaList, amaRecap, amaSchedule, amaStart } from '../features/ama/index.js';
import { quietLogger } from '../log.js';
import { parseDuration, parseTime } from '../commands/parser.js';

/** Parses and runs an `ama` sub-command (argv after `ama`). */
export async function amaCommand(argv: string[]): Promise<void> {
  const rt = await openRuntime({ spawn: 'never', log: quietLogger() });
  const deps = rt.deps;
  const ama = new Command('townhall ama').exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  ama
    .command('schedule <title>')
    .description('schedule an AMA')
    .requiredOption('--at <when>', 'start: "2026-12-01 14:00 UTC", ISO 8601, or "in 2h"')
    .requiredOption('--duration <d>', 'e.g. 60m, 2h')
    .requiredOption('--chat <ids...>', 'prefixed chat ids it spans, e.g. telegram:-1001 discord:123 x:456')
    .option('--host <ids...>', 'prefixed user ids of the hosts', [])
    .option('--tz <zone>', 'IANA time zone the AMA is shown in', 'UTC')
    .option('--hashtag <tag>', 'hashtag collected as questions (and searched on X)')
    .option('--lang <code>', 'language of announcements', 'en')
    .option('--json', 'print JSON')
    .action(async (title: string, o: { at: string; duration: string; chat: string[]; host: string[]; tz: string; hashtag?: string; lang: string; json?: boolean }) => {
      const startsAt = parseTime(o.at, deps.now());
      if (startsAt === null) throw new Error(`--at "${o.at}" is not a time: try "2026-12-01 14:00 UTC" or "in 2h"`);
      const dur = parseDuration(o.duration);
      if (dur === null) throw new Error(`--duration "${o.duration}" is not a duration: try 60m or 2h`);
      const view = await amaSchedule(deps, { title, startsAt, durationMinutes: Math.round(dur / 60_000), hosts: o.host, chats: o.chat, tz: o.tz, lang: o.lang, ...(o.hashtag ? { hashtag: o.hashtag } : {}) }, 'cli');
      console.log(o.json ? JSON.stringify(view) : `scheduled ${view.id}: ${title}`);
    });
  ama
    .command('list')
    .option('--status <s>', 'scheduled | live | closed | cancelled')
    .option('--chat <id>', 'only AMAs spanning this chat')
    .option('--json', 'print JSON')
    .action(async (o: { status?: string; chat?: string; json?: boolean }) => {
      const list = await amaList(deps, { ...(o.status ? { status: o.status as never } : {}), ...(o.chat ? { chat: o.chat } : {}) });
      if (o.json) return console.log(JSON.stringify(list));
      if (!list.length) return console.log('no AMAs');
      for (const a of list) console.log(`${a.id}  ${a.status.padEnd(9)}  ${new Date(a.startsAt).toISOString().slice(0, 16).replace('T', ' ')} UTC  ${a.title}`);
    });
  ama.command('start <id>').action(async (id: string) => console.log(`started ${(await amaStart(deps, id, 'cli')).id}`));
  ama.command('end <id>').action(async (id: string) => console.log(`ended ${(await amaEnd(deps, id, 'cli')).id}`));
  ama
    .command('recap <id>')
    .option('--format <f>', 'md | json | csv-questions | csv-participants', 'md')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (id: string, o: { format: string; out?: string }) => {
      if (!['md', 'json', 'csv-questions', 'csv-participants'].includes(o.format)) throw new Error(`--format ${o.format}: md, json, csv-questions or csv-participants`);
      const r = o.format === 'json' ? JSON.stringify(await amaRecap(deps, id, 'json'), null, 2) : await amaRecap(deps, id, o.format as 'md');
      if (o.out) writeFileSync(o.out, r);
      else console.log(r);
    });
  try {
    await ama.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // commander has already printed its own usage errors.
    if ((err as { code?: string }).code?.startsWith('commander.')) {
      if ((err as { code?: string }).code === 'commander.helpDisplayed' || (err as { code?: string }).code === 'commander.help') return;
      process.exitCode = 1;
      return;
    }
    throw err;
  } finally {
    await rt.close();
  }
}
