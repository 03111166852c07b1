// Shared by the dashboard's views: the session, the API client (with the CSRF header), live updates, DOM helpers.

/** The signed-in session: {subject, admin, role (admin|moderator|host), chats, amas, csrf, expiresAt}. */
export const session = { subject: '', admin: false, role: '', chats: [], amas: [], csrf: '', expiresAt: 0 };

/** Goes to the sign-in page, coming back here afterwards. */
export function toSignIn() {
  const next = window.location.pathname + window.location.hash;
  window.location.replace(`/login?next=${encodeURIComponent(next)}`);
}

/** Calls the JSON API; throws Error(message) on failure; sends the CSRF token on writes. */
export async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  if (res.status === 401) {
    toSignIn();
    throw new Error('Signed out.');
  }
  const type = res.headers.get('content-type') || '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error((body && body.error) || `${method} ${path} failed (${res.status})`);
  return body;
}

/** Builds an element: h('button', {class: 'x', onclick}, 'text', child). Text is always text (never HTML). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let toastTimer = 0;
/** A short message at the bottom of the screen (announced to screen readers). */
export function toast(text, bad = false) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.classList.toggle('bad', bad);
  el.classList.add('show');
  window.clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), bad ? 6000 : 3000);
}

/**
 * Wraps a refresh so bursts of nudges cost one request at a time: a call while one runs schedules exactly one
 * more after it, and runs are at least `gapMs` apart.
 */
export function coalesce(fn, gapMs = 0) {
  let running = false;
  let again = false;
  let last = 0;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    const wait = last + gapMs - Date.now();
    if (wait > 0) {
      running = true;
      await new Promise((r) => setTimeout(r, wait));
      running = false;
    }
    running = true;
    again = false;
    try {
      await fn();
    } catch (err) {
      if (err.message !== 'Signed out.') toast(err.message, true);
    } finally {
      last = Date.now();
      running = false;
    }
    if (again) void run();
  };
  return run;
}

const liveDot = () => document.getElementById('live-dot');
function setLive(on) {
  const dot = liveDot();
  dot.classList.toggle('on', on);
  dot.setAttribute('aria-label', on ? 'Live updates: connected' : 'Live updates: reconnecting');
}

/**
 * Opens the live stream for what is on screen. `handlers.ama()` / `handlers.chat(chats)` run on nudges;
 * `handlers.resync()` after a reconnect (nudges may have been missed while away).
 */
export function live(query, handlers) {
  const es = new EventSource(`/dashboard/live?${new window.URLSearchParams(query)}`);
  let connectedOnce = false;
  es.addEventListener('ready', () => {
    setLive(true);
    if (connectedOnce && handlers.resync) handlers.resync();
    connectedOnce = true;
  });
  es.addEventListener('ama', () => handlers.ama && handlers.ama());
  es.addEventListener('chat', (e) => handlers.chat && handlers.chat(JSON.parse(e.data).chats || []));
  es.addEventListener('signedout', () => {
    es.close();
    toSignIn();
  });
  es.addEventListener('error', () => setLive(false));
  return () => es.close();
}

/** The platforms the server knows, by id, as GET /api/platforms lists them: {id, name, short, colour, maxChars, capabilities}. */
export const PLATFORM = {};

/** The platforms in the server's order. */
export const platforms = () => Object.values(PLATFORM);

/** Readable text on a background colour: dark on light colours, white on dark ones. */
function textOn(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  const lum = (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  return lum > 0.6 ? '#15171c' : '#ffffff';
}

/**
 * Loads the platform registry from the server, once, and gives each platform its badge colours (light and dark
 * themes) as CSS variables `--pf-<id>` / `--pf-<id>-text`: nothing in the dashboard names a platform itself.
 */
export async function loadPlatforms() {
  const { platforms: list } = await api('/api/platforms');
  for (const p of list) PLATFORM[p.id] = p;
  const vars = (mode) => list.map((p) => `--pf-${p.id}: ${p.colour[mode]}; --pf-${p.id}-text: ${textOn(p.colour[mode])};`).join(' ');
  const css = [
    `:root { ${vars('light')} }`,
    `@media (prefers-color-scheme: dark) { :root:not([data-theme="light"]) { ${vars('dark')} } }`,
    `:root[data-theme="dark"] { ${vars('dark')} }`,
    ...list.map((p) => `.pf-${p.id} { background: var(--pf-${p.id}); color: var(--pf-${p.id}-text); }`),
  ].join('\n');
  // A constructed sheet (CSSOM), not a <style> element: the dashboard's CSP allows only its own style files.
  const sheet = new window.CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

/** The group a chat id belongs to (its topic or thread dropped), by the platform's own id pattern. */
export function groupOf(chat) {
  const p = PLATFORM[String(chat).slice(0, String(chat).indexOf(':'))];
  const m = p ? new RegExp(p.chatPattern).exec(chat) : null;
  return m ? `${p.id}:${m[1]}` : String(chat);
}

/** A platform badge with an accessible name: "Telegram 2". */
export function platformBadge(platform, count) {
  const p = PLATFORM[platform] || { name: platform, short: platform };
  const label = count === undefined ? p.name : `${p.name}: ${count}`;
  return h('span', { class: `pf pf-${platform}`, title: label, 'aria-label': label, role: 'img' }, count === undefined ? p.short : `${p.short} ${count}`);
}

/** Time of day, or date and time when not today. */
export function when(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A short readable form of a prefixed id: telegram:user:601 -> user 601. */
export function shortId(id) {
  return String(id || '').replace(/^[a-z]+:user:/, 'user ');
}

/** Chats the session may pick (the admin: every chat seen; a moderator: its own). */
export async function knownChats() {
  const { chats } = await api('/api/chats');
  return chats;
}

/** Changes the hash without re-mounting the view (for selections inside a view). */
export function setHash(hash) {
  if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
}

