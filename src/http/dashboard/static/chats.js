// The chats view: every chat seen, a chart of messages per minute per platform and questions per minute (uPlot),
// and the selected chat's digest with its open questions. Refreshed on live nudges, throttled (digests cost more).
import { api, coalesce, h, live, platformBadge, platforms, setHash, toast, when } from './lib.js';

const WINDOWS = ['30m', '2h', '6h', '24h'];

/** Mounts the view into `root`; returns the unmount function. */
export function mountChats(root, [wantedChat]) {
  const st = { chats: [], chat: wantedChat || '', window: '2h', only: false, plot: null, activity: null, disposed: false };

  const windowSel = h(
    'select',
    { id: 'window-select', onchange: () => ((st.window = windowSel.value), refreshAll()) },
    WINDOWS.map((w) => h('option', { value: w, selected: w === st.window }, `last ${w}`)),
  );
  const chatList = h('ul', { class: 'chat-list', id: 'chat-list', 'aria-label': 'Chats' });
  const chartTitle = h('h2', { id: 'chart-title' }, 'Messages per minute, all chats');
  const onlyBox = h('input', { type: 'checkbox', id: 'chart-only', onchange: () => ((st.only = onlyBox.checked), void loadActivity().catch((err) => toast(err.message, true))) });
  const chartBox = h('div', { class: 'chart-box', id: 'chart' });
  const chartSummary = h('p', { class: 'chart-legend-note', id: 'chart-summary', 'aria-live': 'polite' });
  const digestBox = h('section', { class: 'panel digest', id: 'digest', 'aria-labelledby': 'digest-title' });
  root.append(
    h('div', { class: 'toolbar' }, h('label', { for: 'window-select' }, 'Window'), windowSel, h('label', { for: 'chart-only' }, onlyBox, 'Chart only the selected chat')),
    h(
      'div',
      { class: 'chats-layout' },
      h('nav', { class: 'panel', 'aria-label': 'Pick a chat' }, h('h2', {}, 'Chats'), chatList),
      h(
        'div',
        {},
        h('figure', { class: 'panel chart-figure', 'aria-labelledby': 'chart-title' }, chartTitle, chartBox, h('figcaption', {}, chartSummary)),
        digestBox,
      ),
    ),
  );

  // ---- chat list ----
  async function loadChats() {
    const { chats } = await api('/api/chats');
    st.chats = chats;
    renderChats();
  }
  function renderChats() {
    const item = (chat, label, extra) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', 'aria-current': st.chat === chat ? 'true' : 'false', onclick: () => pick(chat) },
          extra,
          h('span', {}, label),
        ),
      );
    if (!st.chats.length) return chatList.replaceChildren(h('li', { class: 'muted' }, 'No chats seen yet.'));
    chatList.replaceChildren(
      ...st.chats.map((c) => item(c.chat, `${c.chat.split(':').slice(1).join(':')} · ${when(c.lastAt)}`, platformBadge(c.chat.split(':')[0]))),
    );
  }
  function pick(chat) {
    st.chat = chat;
    setHash(chat ? `#/chats/${encodeURIComponent(chat)}` : '#/chats');
    renderChats();
    void refreshAll();
  }

  // ---- chart ----
  function cssVar(name) {
    return window.getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function drawChart() {
    const a = st.activity;
    if (!a || st.disposed) return;
    const list = platforms();
    const series = list.map((p) => a.messages[p.id] || a.minutes.map(() => 0));
    const data = [a.minutes, ...series, a.questions];
    const sum = (s) => s.reduce((x, y) => x + y, 0);
    const counts = series.map(sum);
    const total = sum(counts);
    const q = sum(a.questions);
    const scoped = st.only && st.chat;
    chartTitle.textContent = scoped ? `Messages per minute in ${st.chat}` : 'Messages per minute, all chats';
    chartSummary.textContent = `${total} messages in the last ${st.window}${scoped ? ` in ${st.chat}` : ` across ${a.chats.length} chat${a.chats.length === 1 ? '' : 's'}`}: ${list.map((p, i) => `${p.name} ${counts[i]}`).join(', ')}; ${q} question${q === 1 ? '' : 's'}.`;
    if (!window.uPlot) {
      chartBox.textContent = 'The chart library did not load.';
      return;
    }
    const width = Math.max(280, chartBox.clientWidth || 600);
    if (st.plot) {
      // Same series, new numbers: update in place (no flicker, no re-layout).
      st.plot.setData(data);
      return;
    }
    const text = cssVar('--text') || '#222';
    const grid = cssVar('--border') || '#ddd';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const line = (label, color, extra) => ({ label, stroke: color, width: 2, points: { show: false }, ...extra });
    st.plot = new window.uPlot(
      {
        width,
        height: 260,
        series: [
          {},
          // A platform without messages is hidden (its legend entry shows it); with none at all, the first is shown.
          ...list.map((p, i) => line(p.name, cssVar(`--pf-${p.id}`), { show: counts[i] > 0 || (i === 0 && total === 0) })),
          line('Questions', cssVar('--q'), { dash: [6, 4] }),
        ],
        axes: [axis, { ...axis, label: 'per minute' }],
        scales: { x: { time: true } },
      },
      data,
      chartBox,
    );
  }
  function resetChart() {
    if (st.plot) st.plot.destroy();
    st.plot = null;
    chartBox.replaceChildren();
    drawChart();
  }
  const onResize = () => st.plot && st.plot.setSize({ width: Math.max(280, chartBox.clientWidth), height: 260 });
  window.addEventListener('resize', onResize);
  window.addEventListener('townhall-theme', resetChart);

  async function loadActivity() {
    const q = new window.URLSearchParams({ window: st.window });
    if (st.only && st.chat) q.set('chat', st.chat);
    const fresh = await api(`/dashboard/activity?${q}`);
    const sameShape = st.activity && st.activity.chats.join() === fresh.chats.join();
    st.activity = fresh;
    if (sameShape) drawChart();
    else resetChart();
  }

  // ---- digest ----
  function point(p) {
    return [h('strong', {}, p.userName), ': ', p.text, ' ', h('span', { class: 'muted small' }, when(p.at)), p.source && p.source.url ? [' ', h('a', { href: p.source.url, target: '_blank', rel: 'noopener noreferrer' }, 'open')] : null];
  }
  function section(title, items, render, empty) {
    return h('section', {}, h('h3', {}, `${title} (${items.length})`), items.length ? h('ul', {}, items.map((x) => h('li', {}, render(x)))) : h('p', { class: 'muted small' }, empty));
  }
  async function loadDigest() {
    if (!st.chat) {
      digestBox.replaceChildren(h('h2', { id: 'digest-title' }, 'Digest'), h('p', { class: 'muted' }, 'Pick a chat to read its digest and open questions.'));
      return;
    }
    let d;
    try {
      ({ digest: d } = await api(`/api/chats/${encodeURIComponent(st.chat)}/digest?window=${encodeURIComponent(st.window)}`));
    } catch (err) {
      digestBox.replaceChildren(h('h2', { id: 'digest-title' }, `Digest of ${st.chat}`), h('p', { class: 'error', role: 'alert' }, `The digest could not be built: ${err.message}`));
      return;
    }
    const t = d.totals;
    digestBox.replaceChildren(
      h('h2', { id: 'digest-title' }, `Digest of ${st.chat}, last ${st.window}`),
      h(
        'div',
        { class: 'totals' },
        [
          ['messages', t.messages],
          ['people', t.users],
          ['conversations', t.conversations],
          ['open questions', t.openQuestions],
          ['answered', t.answeredQuestions],
          ['links', t.links],
        ].map(([k, v]) => h('div', {}, h('strong', {}, String(v)), h('span', { class: 'muted small' }, k))),
      ),
      section('Open questions', d.openQuestions, (q) => point(q.question), 'No open questions.'),
      section('Main conversations', d.conversations, (c) => [h('strong', {}, c.participants.slice(0, 3).join(', ')), ` (${c.messages} messages): `, c.what, c.outcome ? [' → ', h('em', {}, c.outcome.text)] : null], 'Quiet so far.'),
      section('Answered', d.answeredQuestions, (q) => [point(q.question), q.answer ? h('div', { class: 'q-answer' }, point(q.answer)) : null], 'Nothing answered yet.'),
      section('Decisions and announcements', d.decisions, point, 'None.'),
      section('Links', d.links, (l) => [h('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.url), ` · ${l.count}× · ${l.userName}`], 'None.'),
    );
  }

  const refreshChart = coalesce(loadActivity, 3000);
  const refreshDigest = coalesce(loadDigest, 5000);
  const refreshList = coalesce(loadChats, 5000);
  async function refreshAll() {
    await Promise.all([loadActivity(), loadDigest()]).catch((err) => toast(err.message, true));
  }

  const closeLive = live(
    { chats: '' },
    {
      chat: (chats) => {
        void refreshChart();
        void refreshList();
        if (st.chat && chats.some((c) => c === st.chat || c.startsWith(`${st.chat}:`) || st.chat.startsWith(`${c}:`))) void refreshDigest();
      },
      resync: () => void refreshAll(),
    },
  );

  void loadChats()
    .then(() => {
      if (!st.chat && st.chats[0]) st.chat = st.chats[0].chat;
      renderChats();
      return refreshAll();
    })
    .catch((err) => toast(err.message, true));

  return () => {
    st.disposed = true;
    closeLive();
    window.removeEventListener('resize', onResize);
    window.removeEventListener('townhall-theme', resetChart);
    if (st.plot) st.plot.destroy();
  };
}
