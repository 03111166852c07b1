// The dashboard shell: hash router, theme switch, sign-out. Views live in ama.js, chats.js, moderation.js.
import { api, loadPlatforms, session, shortId } from './lib.js';
import { mountAma } from './ama.js';
import { mountChats } from './chats.js';
import { mountModeration } from './moderation.js';

// ---- router ----------------------------------------------------------------------------------------------

const VIEWS = { ama: mountAma, chats: mountChats, moderation: mountModeration };
let unmount = null;

/** A host's link reads and answers its AMA only: the chat and moderation views are not theirs. */
const allowed = (view) => session.role !== 'host' || view === 'ama';

function route() {
  const [, view = 'ama', ...rest] = window.location.hash.replace(/^#/, '').split('/');
  const name = VIEWS[view] && allowed(view) ? view : 'ama';
  for (const a of document.querySelectorAll('nav a[data-view]')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (unmount) unmount();
  const main = document.getElementById('main');
  main.replaceChildren();
  unmount = VIEWS[name](main, rest.map(decodeURIComponent)) || null;
  document.title = `${name === 'ama' ? 'AMA' : name[0].toUpperCase() + name.slice(1)} · Townhall`;
}

// ---- theme -----------------------------------------------------------------------------------------------

const THEMES = ['system', 'dark', 'light'];
function applyTheme(t) {
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  const b = document.getElementById('theme-toggle');
  b.textContent = t === 'system' ? 'Theme: auto' : t === 'dark' ? 'Theme: dark' : 'Theme: light';
  b.setAttribute('aria-label', `Theme: ${t}. Click to change.`);
  window.dispatchEvent(new window.Event('townhall-theme'));
}

async function start() {
  try {
    Object.assign(session, await api('/dashboard/session'));
  } catch {
    return;
  }
  // Without the registry the views still work, with grey badges and platform ids for names.
  await loadPlatforms().catch((err) => console.warn(`could not load the platforms: ${err.message}`));
  document.getElementById('who').textContent = session.admin ? 'admin' : shortId(session.subject);
  document.getElementById('queues-link').hidden = !session.admin;
  for (const a of document.querySelectorAll('nav a[data-view]')) a.hidden = !allowed(a.dataset.view);
  let theme = localStorage.getItem('townhall-theme') || 'system';
  applyTheme(theme);
  document.getElementById('theme-toggle').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    localStorage.setItem('townhall-theme', theme);
    applyTheme(theme);
  });
  document.getElementById('sign-out').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', headers: { 'x-csrf-token': session.csrf }, credentials: 'same-origin' });
    window.location.replace('/login');
  });
  window.addEventListener('hashchange', route);
  route();
}

void start();
