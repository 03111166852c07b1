/** What the AMA says in chats: times with their zone, per-platform length limits, and the notices in the AMA's language. */
import type { Platform } from '../../core/ids.js';
import { perPlatform } from '../../platform/index.js';

/** The longest message each platform takes (the registry's; Infinity where the adapter splits a long text itself). */
export const PLATFORM_TEXT_LIMIT: Record<Platform, number> = perPlatform((p) => p.text.maxChars);

/** How platforms are named to people (the registry's names). */
export const PLATFORM_NAME: Record<Platform, string> = perPlatform((p) => p.name);

/** True when `tz` is an IANA zone this runtime knows. */
export function isValidZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The date locale of a notice language (English notices use en-GB: `Tue, 1 Dec 2026`). */
function dateLocale(lang: string): string {
  return !lang || lang === 'en' ? 'en-GB' : lang;
}

/** `Tue 1 Dec 2026, 15:00 CET (14:00 UTC)`: the zone is always written, UTC alongside any other zone. */
export function formatWhen(ms: number, tz = 'UTC', lang = 'en'): string {
  const zone = isValidZone(tz) ? tz : 'UTC';
  const d = new Date(ms);
  let locale = dateLocale(lang);
  try {
    new Intl.DateTimeFormat(locale);
  } catch {
    locale = 'en-GB';
  }
  const local = new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(d);
  if (zone === 'UTC' || zone === 'Etc/UTC') return local.replace(/\bGMT\b|\bUTC\b/, 'UTC');
  const utc = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  return `${local} (${utc} UTC)`;
}

/** `1h 30m`, `45m`, `2d 3h`. */
export function formatDuration(ms: number): string {
  const m = Math.round(ms / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const mm = m % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', mm || (!d && !h) ? `${mm}m` : ''].filter(Boolean).join(' ');
}

/** Shortens to `max` characters on a word border, with an ellipsis. */
export function shorten(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, max - 1);
  const sp = cut.lastIndexOf(' ');
  return `${sp > max * 0.6 ? cut.slice(0, sp) : cut}…`;
}

/** Splits a text into parts of at most `limit` characters: on paragraphs, then lines, sentences, words, characters. */
export function splitText(text: string, limit: number): string[] {
  if (!Number.isFinite(limit) || text.length <= limit) return [text];
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = -1;
    for (const sep of ['\n\n', '\n', '. ', '? ', '! ', '。', '؟ ', ' ']) {
      const i = window.lastIndexOf(sep);
      // A border in the first third would leave tiny parts; look for a weaker border instead.
      if (i > limit / 3) {
        cut = i + sep.length;
        break;
      }
    }
    if (cut <= 0) cut = limit;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** Languages the notices are written in; anything else falls back to English. */
export const NOTICE_LANGS = ['en', 'es', 'ru', 'tr', 'vi', 'zh', 'ar'] as const;

type Notice = 'announce' | 'remind' | 'open' | 'close' | 'subscribed' | 'unsubscribed' | 'upcoming';

const NOTICES: Record<(typeof NOTICE_LANGS)[number], Record<Notice, string>> = {
  en: {
    announce: '📣 AMA: {title}\n🗓 {when} · {duration}\n🎙 Hosts: {hosts}\nAsk now: reply to this message, use /ask <question>, or #{hashtag}.',
    remind: '⏰ AMA "{title}" starts {in} ({when}). Ask with /ask <question> or #{hashtag}.',
    open: '🎙 The AMA "{title}" is live until {end}! Ask with /ask <question> or #{hashtag}; upvote with ▲, 👍 or /upvote <n>.',
    close: '🏁 The AMA "{title}" is over. Thank you! Recap below.',
    subscribed: 'Subscribed: I will tell you here before each AMA.',
    unsubscribed: 'Unsubscribed: no more AMA notices.',
    upcoming: '🔔 Upcoming AMA: "{title}" {in} ({when}). Ask in {chats} with /ask or #{hashtag}.',
  },
  es: {
    announce: '📣 AMA: {title}\n🗓 {when} · {duration}\n🎙 Anfitriones: {hosts}\nPregunta ya: responde a este mensaje, usa /ask <pregunta> o #{hashtag}.',
    remind: '⏰ El AMA "{title}" empieza {in} ({when}). Pregunta con /ask <pregunta> o #{hashtag}.',
    open: '🎙 ¡El AMA "{title}" está en directo hasta {end}! Pregunta con /ask <pregunta> o #{hashtag}; vota con ▲, 👍 o /upvote <n>.',
    close: '🏁 El AMA "{title}" ha terminado. ¡Gracias! Resumen abajo.',
    subscribed: 'Suscrito: te avisaré aquí antes de cada AMA.',
    unsubscribed: 'Suscripción cancelada.',
    upcoming: '🔔 Próximo AMA: "{title}" {in} ({when}). Pregunta en {chats} con /ask o #{hashtag}.',
  },
  ru: {
    announce: '📣 AMA: {title}\n🗓 {when} · {duration}\n🎙 Ведущие: {hosts}\nЗадайте вопрос: ответьте на это сообщение, /ask <вопрос> или #{hashtag}.',
    remind: '⏰ AMA «{title}» начнётся {in} ({when}). Вопросы: /ask <вопрос> или #{hashtag}.',
    open: '🎙 AMA «{title}» в эфире до {end}! Вопросы: /ask <вопрос> или #{hashtag}; голосуйте ▲, 👍 или /upvote <n>.',
    close: '🏁 AMA «{title}» завершён. Спасибо! Итоги ниже.',
    subscribed: 'Подписка оформлена: я напомню здесь перед каждым AMA.',
    unsubscribed: 'Подписка отменена.',
    upcoming: '🔔 Скоро AMA: «{title}» {in} ({when}). Вопросы в {chats}: /ask или #{hashtag}.',
  },
  tr: {
    announce: '📣 AMA: {title}\n🗓 {when} · {duration}\n🎙 Sunucular: {hosts}\nŞimdi sorun: bu mesajı yanıtlayın, /ask <soru> ya da #{hashtag}.',
    remind: '⏰ "{title}" AMA {in} başlıyor ({when}). /ask <soru> ya da #{hashtag} ile sorun.',
    open: '🎙 "{title}" AMA {end} saatine kadar canlı! /ask <soru> ya da #{hashtag} ile sorun; ▲, 👍 ya da /upvote <n> ile oy verin.',
    close: '🏁 "{title}" AMA sona erdi. Teşekkürler! Özet aşağıda.',
    subscribed: 'Abone oldunuz: her AMA öncesi burada haber vereceğim.',
    unsubscribed: 'Abonelik iptal edildi.',
    upcoming: '🔔 Yaklaşan AMA: "{title}" {in} ({when}). {chats} içinde /ask ya da #{hashtag} ile sorun.',
  },
  vi: {
    announce: '📣 AMA: {title}\n🗓 {when} · {duration}\n🎙 Khách mời: {hosts}\nĐặt câu hỏi: trả lời tin nhắn này, dùng /ask <câu hỏi> hoặc #{hashtag}.',
    remind: '⏰ AMA "{title}" bắt đầu {in} ({when}). Hỏi bằng /ask <câu hỏi> hoặc #{hashtag}.',
    open: '🎙 AMA "{title}" đang diễn ra đến {end}! Hỏi bằng /ask <câu hỏi> hoặc #{hashtag}; bình chọn bằng ▲, 👍 hoặc /upvote <n>.',
    close: '🏁 AMA "{title}" đã kết thúc. Cảm ơn! Tóm tắt bên dưới.',
    subscribed: 'Đã đăng ký: tôi sẽ báo ở đây trước mỗi AMA.',
    unsubscribed: 'Đã hủy đăng ký.',
    upcoming: '🔔 AMA sắp tới: "{title}" {in} ({when}). Hỏi trong {chats} bằng /ask hoặc #{hashtag}.',
  },
  zh: {
    announce: '📣 AMA：{title}\n🗓 {when} · {duration}\n🎙 嘉宾：{hosts}\n现在提问：回复本消息、使用 /ask <问题> 或 #{hashtag}。',
    remind: '⏰ AMA「{title}」将于{in}开始（{when}）。使用 /ask <问题> 或 #{hashtag} 提问。',
    open: '🎙 AMA「{title}」正在进行，至 {end}！使用 /ask <问题> 或 #{hashtag} 提问；用 ▲、👍 或 /upvote <n> 投票。',
    close: '🏁 AMA「{title}」已结束，谢谢！回顾见下。',
    subscribed: '已订阅：每次 AMA 前我会在这里通知你。',
    unsubscribed: '已取消订阅。',
    upcoming: '🔔 即将开始的 AMA：「{title}」{in}（{when}）。在 {chats} 使用 /ask 或 #{hashtag} 提问。',
  },
  ar: {
    announce: '📣 جلسة AMA: {title}\n🗓 {when} · {duration}\n🎙 المضيفون: {hosts}\nاسأل الآن: رد على هذه الرسالة أو استخدم /ask <سؤال> أو #{hashtag}.',
    remind: '⏰ تبدأ جلسة "{title}" {in} ({when}). اسأل عبر /ask <سؤال> أو #{hashtag}.',
    open: '🎙 جلسة "{title}" مباشرة حتى {end}! اسأل عبر /ask <سؤال> أو #{hashtag}؛ صوّت بـ ▲ أو 👍 أو /upvote <n>.',
    close: '🏁 انتهت جلسة "{title}". شكراً! الملخص أدناه.',
    subscribed: 'تم الاشتراك: سأخبرك هنا قبل كل جلسة AMA.',
    unsubscribed: 'تم إلغاء الاشتراك.',
    upcoming: '🔔 جلسة AMA قادمة: "{title}" {in} ({when}). اسأل في {chats} عبر /ask أو #{hashtag}.',
  },
};

/** A notice in `lang` (English when unknown) with `{placeholders}` filled. */
export function notice(lang: string, kind: Notice, vars: Record<string, string>): string {
  const table = NOTICES[(NOTICE_LANGS as readonly string[]).includes(lang) ? (lang as (typeof NOTICE_LANGS)[number]) : 'en'];
  return table[kind].replace(/\{(\w+)\}/g, (_m, k: string) => vars[k] ?? '');
}

type Unit = 'minute' | 'hour' | 'day';
// How each notice language says "in N minutes/hours/days" and "now" (the absolute time is always shown too).
const RELATIVE: Record<(typeof NOTICE_LANGS)[number], { now: string; fmt: (n: number, u: Unit) => string }> = {
  en: { now: 'now', fmt: (n, u) => `in ${n} ${u}${n === 1 ? '' : 's'}` },
  es: { now: 'ahora', fmt: (n, u) => `en ${n} ${{ minute: n === 1 ? 'minuto' : 'minutos', hour: n === 1 ? 'hora' : 'horas', day: n === 1 ? 'día' : 'días' }[u]}` },
  ru: { now: 'сейчас', fmt: (n, u) => `через ${n} ${{ minute: 'мин.', hour: 'ч', day: 'дн.' }[u]}` },
  tr: { now: 'şimdi', fmt: (n, u) => `${n} ${{ minute: 'dakika', hour: 'saat', day: 'gün' }[u]} sonra` },
  vi: { now: 'bây giờ', fmt: (n, u) => `sau ${n} ${{ minute: 'phút', hour: 'giờ', day: 'ngày' }[u]}` },
  zh: { now: '现在', fmt: (n, u) => `${n}${{ minute: '分钟', hour: '小时', day: '天' }[u]}后` },
  ar: { now: 'الآن', fmt: (n, u) => `خلال ${n} ${{ minute: 'دقيقة', hour: 'ساعة', day: 'يوم' }[u]}` },
};

/** `in 3 days`, `in 1 hour`, `in 10 minutes`, `now`, in the notice language (English when unknown). */
export function inWords(ms: number, now: number, lang = 'en'): string {
  const r = RELATIVE[(NOTICE_LANGS as readonly string[]).includes(lang) ? (lang as (typeof NOTICE_LANGS)[number]) : 'en'];
  const d = ms - now;
  if (d <= 30_000) return r.now;
  const min = Math.round(d / 60_000);
  if (min < 90) return r.fmt(min, 'minute');
  const h = Math.round(d / 3_600_000);
  if (h < 36) return r.fmt(h, 'hour');
  return r.fmt(Math.round(d / 86_400_000), 'day');
}
