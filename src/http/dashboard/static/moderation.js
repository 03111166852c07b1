// The moderation view: the mod log (GET /api/modlog) with filters and paging, one-click reversal of bans and
// mutes, and the quiet-mode switch of the chosen chat.
import { api, coalesce, groupOf, h, live, session, setHash, shortId, toast, when } from './lib.js';

const ACTIONS = ['ban', 'unban', 'mute', 'unmute', 'warn', 'delete', 'purge', 'refused', 'quiet', 'filter', 'flag', 'slowmode'];

/** Mounts the view into `root`; returns the unmount function. */
export function mountModeration(root, [wantedChat]) {
  const st = { chat: wantedChat || '', entries: [], next: null, pages: 1, disposed: false };

  const chatSel = h('select', { id: 'mod-chat', onchange: () => ((st.chat = chatSel.value), setHash(st.chat ? `#/moderation/${encodeURIComponent(st.chat)}` : '#/moderation'), reload()) });
  const actionSel = h('select', { id: 'mod-action', onchange: () => render() }, h('option', { value: '' }, 'any action'), ACTIONS.map((a) => h('option', { value: a }, a)));
  const who = h('input', { id: 'mod-who', type: 'search', placeholder: 'user id or name', autocomplete: 'off', oninput: () => render() });
  const onlyReversible = h('input', { id: 'mod-reversible', type: 'checkbox', onchange: () => render() });
  const quietBox = h('div', { class: 'quiet-box', id: 'quiet-box', 'aria-live': 'polite' });
  const tbody = h('tbody', { id: 'modlog-rows' });
  const more = h('button', { type: 'button', id: 'mod-more', onclick: () => load(true) }, 'Load older entries');
  const count = h('p', { class: 'muted small', id: 'mod-count', 'aria-live': 'polite' });

  root.append(
    h('h2', {}, 'Moderation log'),
    h(
      'div',
      { class: 'toolbar', role: 'search', 'aria-label': 'Filter the log' },
      h('label', { for: 'mod-chat' }, 'Chat'),
      chatSel,
      h('label', { for: 'mod-action' }, 'Action'),
      actionSel,
      h('label', { for: 'mod-who' }, 'User'),
      who,
      h('label', { for: 'mod-reversible' }, onlyReversible, ' reversible only'),
    ),
    quietBox,
    count,
    h(
      'table',
      { class: 'modlog' },
      h('caption', { class: 'visually-hidden' }, 'Moderation decisions, newest first'),
      h('thead', {}, h('tr', {}, ['When', 'Action', 'User', 'By', 'Chat', 'Reason', ''].map((c) => h('th', { scope: 'col' }, c)))),
      tbody,
    ),
    h('div', { class: 'pager' }, more),
  );

  async function loadChats() {
    const { chats } = await api('/api/chats');
    const groups = [...new Set([...chats.map((c) => groupOf(c.chat)), ...session.chats])];
    // A moderator token must name its chat; the admin may read every chat's log at once.
    const options = session.admin ? [h('option', { value: '' }, 'all chats')] : [];
    chatSel.replaceChildren(...options, ...groups.map((g) => h('option', { value: g }, g)));
    if (!st.chat && !session.admin) st.chat = groups[0] || '';
    chatSel.value = st.chat;
  }

  async function load(older) {
    const q = new window.URLSearchParams({ limit: '100' });
    if (st.chat) q.set('chat', st.chat);
    if (older && st.next) q.set('before', st.next);
    const res = await api(`/api/modlog?${q}`);
    if (st.disposed) return;
    st.entries = older ? [...st.entries, ...res.entries] : res.entries;
    st.pages = older ? st.pages + 1 : 1;
    st.next = res.next;
    render();
  }

  function matches(e) {
    if (actionSel.value && e.action !== actionSel.value) return false;
    if (onlyReversible.checked && !e.reversible) return false;
    const w = who.value.trim().toLowerCase();
    if (w && ![e.target, e.by, e.reason, e.content].some((f) => String(f || '').toLowerCase().includes(w))) return false;
    return true;
  }

  /** The action filter offers the usual actions plus any other the loaded entries carry (ama.answer, …). */
  function actionOptions() {
    const known = [...new Set([...ACTIONS, ...st.entries.map((e) => e.action)])];
    if (known.length + 1 === actionSel.options.length) return;
    const chosen = actionSel.value;
    actionSel.replaceChildren(h('option', { value: '' }, 'any action'), known.map((a) => h('option', { value: a }, a)));
    actionSel.value = chosen;
  }

  function render() {
    actionOptions();
    const shown = st.entries.filter(matches);
    count.textContent = `${shown.length} of ${st.entries.length} loaded entries`;
    more.disabled = !st.next;
    if (!shown.length) {
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: '7', class: 'empty' }, st.entries.length ? 'No entry matches the filters.' : 'The log is empty.')));
      return;
    }
    tbody.replaceChildren(
      ...shown.map((e) =>
        h(
          'tr',
          { dataset: { id: e.id } },
          h('td', { 'data-label': 'When' }, when(e.at)),
          h('td', { 'data-label': 'Action' }, h('span', { class: 'badge' }, e.action)),
          h('td', { 'data-label': 'User' }, e.target ? shortId(e.target) : '—'),
          h('td', { 'data-label': 'By' }, e.by === 'townhall' ? 'automatic' : shortId(e.by)),
          h('td', { 'data-label': 'Chat' }, e.chat),
          h(
            'td',
            { 'data-label': 'Reason' },
            e.reason || '',
            e.content ? h('details', {}, h('summary', {}, 'message'), h('div', {}, e.content)) : null,
          ),
          h(
            'td',
            {},
            e.reversed
              ? h('span', { class: 'muted small' }, 'reversed')
              : e.reversible
                ? h('button', { type: 'button', onclick: (ev) => reverse(e, ev.currentTarget), 'aria-label': `Reverse the ${e.action} of ${shortId(e.target)}` }, e.action === 'ban' ? 'Unban' : 'Unmute')
                : null,
          ),
        ),
      ),
    );
  }

  async function reverse(e, button) {
    button.disabled = true;
    try {
      await api(`/api/modlog/${encodeURIComponent(e.id)}/reverse`, { method: 'POST', body: st.chat ? { chat: st.chat } : {} });
      toast(`${e.action === 'ban' ? 'Unbanned' : 'Unmuted'} ${shortId(e.target)}.`);
      e.reversed = true;
      e.reversible = false;
      render();
    } catch (err) {
      button.disabled = false;
      toast(err.message, true);
    }
  }

  async function loadQuiet() {
    if (!st.chat) {
      quietBox.replaceChildren(h('span', { class: 'muted small' }, 'Pick a chat to switch its quiet mode.'));
      return;
    }
    const q = await api(`/dashboard/quiet?chat=${encodeURIComponent(st.chat)}`);
    const minutes = h('select', { id: 'quiet-minutes', 'aria-label': 'Quiet mode duration' }, [15, 30, 60, 180, 720].map((m) => h('option', { value: String(m), selected: m === 30 }, m < 60 ? `${m} min` : `${m / 60} h`)));
    quietBox.replaceChildren(
      h('strong', {}, `Quiet mode in ${q.chat}: `),
      h('span', { class: `badge ${q.on ? 'pending' : ''}`, id: 'quiet-state' }, q.on ? `on until ${when(q.until)}` : 'off'),
      q.on ? null : minutes,
      h(
        'button',
        {
          type: 'button',
          id: 'quiet-toggle',
          'aria-pressed': q.on ? 'true' : 'false',
          onclick: async () => {
            try {
              await api('/dashboard/quiet', { method: 'POST', body: q.on ? { chat: st.chat, on: false } : { chat: st.chat, on: true, minutes: Number(minutes.value) } });
              toast(q.on ? 'Quiet mode is off.' : 'Quiet mode is on: new members are muted.');
            } catch (err) {
              toast(err.message, true);
            }
            await Promise.all([loadQuiet(), load(false)]).catch(() => undefined);
          },
        },
        q.on ? 'Turn quiet mode off' : 'Turn quiet mode on',
      ),
      h('span', { class: 'muted small' }, 'New members are muted while it is on.'),
    );
  }

  async function reload() {
    await Promise.all([load(false), loadQuiet()]).catch((err) => toast(err.message, true));
  }

  // New entries arrive with chat activity; a reader who paged into older entries is not yanked back to the top.
  const refresh = coalesce(() => (st.pages === 1 ? load(false) : undefined), 5000);
  const closeLive = live({ chats: '' }, { chat: () => void refresh(), resync: () => void refresh() });

  void loadChats()
    .then(reload)
    .catch((err) => toast(err.message, true));

  return () => {
    st.disposed = true;
    closeLive();
  };
}
