// The AMA view: the live ranked queue (paged, 50 a page), moderation of questions, the host's answer box and
// keyboard shortcuts, and scheduling/starting/ending AMAs. Updates arrive as nudges over SSE; the page re-fetches.
import { api, coalesce, groupOf, h, knownChats, live, platformBadge, PLATFORM, session, setHash, shortId, toast, when } from './lib.js';

const PAGE = 50;
const STATUSES = [
  ['open', 'Open'],
  ['pending', 'Pending'],
  ['answered', 'Answered'],
  ['rejected', 'Rejected'],
  ['all', 'All'],
];

/** Mounts the view into `root`; returns the unmount function. */
export function mountAma(root, [wantedId]) {
  const st = { amas: [], ama: null, status: 'open', offset: 0, questions: [], hasMore: false, selected: null, expanded: new Set(), drafts: new Map() };
  let closeLive = null;
  let disposed = false;

  // ---- skeleton ----
  const select = h('select', { id: 'ama-select', 'aria-label': 'AMA', onchange: () => chooseAma(select.value) });
  const statusBadge = h('span', { class: 'badge', id: 'ama-status' });
  const whenText = h('span', { class: 'muted small', id: 'ama-when' });
  const startBtn = h('button', { type: 'button', id: 'ama-start', onclick: () => lifecycle('start') }, 'Start now');
  const endBtn = h('button', { type: 'button', id: 'ama-end', class: 'danger', onclick: () => lifecycle('end') }, 'End');
  const recap = h('a', { class: 'button', id: 'ama-recap', target: '_blank', rel: 'noopener' }, 'Recap');
  const scheduleToggle = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'schedule-panel', onclick: () => toggleSchedule() }, 'Schedule an AMA');
  const schedulePanel = h('section', { id: 'schedule-panel', class: 'panel hidden', 'aria-label': 'Schedule an AMA' });
  const tabs = h(
    'div',
    { class: 'tabs', role: 'group', 'aria-label': 'Question status' },
    STATUSES.map(([s, label]) => h('button', { type: 'button', 'aria-pressed': s === st.status ? 'true' : 'false', dataset: { status: s }, onclick: () => setStatus(s) }, label)),
  );
  const prev = h('button', { type: 'button', id: 'page-prev', onclick: () => page(-1) }, '‹ Previous');
  const next = h('button', { type: 'button', id: 'page-next', onclick: () => page(1) }, 'Next ›');
  const range = h('span', { class: 'muted small', id: 'page-range', 'aria-live': 'polite' });
  const list = h('ol', { class: 'questions', id: 'questions', 'aria-label': 'Questions, highest ranked first' });
  const answerQ = h('p', { class: 'q-text', id: 'answer-q' }, 'Select a question (j / k).');
  const answerWhere = h('p', { class: 'muted small', id: 'answer-where' });
  const answerText = h('textarea', { id: 'answer-text', rows: '6', 'aria-describedby': 'answer-keys', placeholder: 'Type the answer; it is posted under every place the question was asked.' });
  const sendBtn = h('button', { type: 'button', class: 'primary', id: 'answer-send', onclick: () => sendAnswer() }, 'Send answer');
  const skipBtn = h('button', { type: 'button', id: 'answer-skip', onclick: () => skip() }, 'Skip');
  const delivered = h('div', { class: 'delivered', id: 'delivered', 'aria-live': 'polite' });
  const panel = h(
    'aside',
    { class: 'answer-panel panel', 'aria-labelledby': 'answer-heading' },
    h('h2', { id: 'answer-heading' }, 'Answer'),
    answerQ,
    answerWhere,
    h('label', { for: 'answer-text' }, 'Your answer'),
    answerText,
    h('div', { class: 'toolbar' }, sendBtn, skipBtn),
    h('p', { class: 'hint', id: 'answer-keys' }, h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, 'Enter'), ' sends · ', h('kbd', {}, 'Esc'), ' leaves the box'),
    delivered,
  );
  // A host reads and answers; starting, ending, recaps and scheduling are the moderators' (the API says 403 anyway).
  const managing = session.role !== 'host';
  const header = h('div', { class: 'toolbar' }, h('label', { for: 'ama-select' }, 'AMA'), select, statusBadge, whenText, ...(managing ? [startBtn, endBtn, recap, scheduleToggle] : []));
  root.append(
    h('h2', { class: 'visually-hidden' }, 'AMA questions'),
    header,
    schedulePanel,
    h('div', { class: 'toolbar' }, tabs, h('span', { class: 'spacer' }), prev, range, next),
    h('div', { class: 'ama-layout' }, h('div', {}, list), panel),
    h('p', { class: 'hint' }, 'Keys: ', h('kbd', {}, 'j'), ' / ', h('kbd', {}, 'k'), ' next / previous question · ', h('kbd', {}, 'a'), ' answer · ', h('kbd', {}, 's'), ' skip'),
  );

  // ---- dialogs (outside the list, so live refreshes never disturb what is being typed) ----
  const mergeInput = h('input', { id: 'merge-into', type: 'text', inputmode: 'numeric', required: true, autocomplete: 'off' });
  const mergeDialog = h(
    'dialog',
    { 'aria-labelledby': 'merge-title' },
    h(
      'form',
      { method: 'dialog', onsubmit: (e) => confirmMerge(e) },
      h('h3', { id: 'merge-title' }, 'Merge question'),
      h('label', { for: 'merge-into' }, 'Merge into question number'),
      mergeInput,
      h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => mergeDialog.close() }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, 'Merge')),
    ),
  );
  const rejectInput = h('input', { id: 'reject-reason', type: 'text', maxlength: '300', autocomplete: 'off' });
  const rejectDialog = h(
    'dialog',
    { 'aria-labelledby': 'reject-title' },
    h(
      'form',
      { method: 'dialog', onsubmit: (e) => confirmReject(e) },
      h('h3', { id: 'reject-title' }, 'Reject question'),
      h('label', { for: 'reject-reason' }, 'Reason (optional, shown to the asker)'),
      rejectInput,
      h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => rejectDialog.close() }, 'Cancel'), h('button', { type: 'submit', class: 'danger' }, 'Reject')),
    ),
  );
  root.append(mergeDialog, rejectDialog);
  let dialogTarget = null;

  // ---- data ----
  const amaPath = () => `/api/amas/${encodeURIComponent(st.ama.id)}`;

  async function loadAmas() {
    st.amas = await api('/api/amas?limit=100');
    select.replaceChildren(...st.amas.map((a) => h('option', { value: a.id }, `${a.title} · ${a.status} · ${when(a.startsAt)}`)));
    if (!st.amas.length) {
      renderHeader();
      list.replaceChildren(h('li', { class: 'empty' }, 'No AMAs yet. Schedule one with the button above, or /ama schedule in a chat.'));
      toggleSchedule(true);
      return;
    }
    const pick =
      st.amas.find((a) => a.id === wantedId) ||
      st.amas.find((a) => a.status === 'live') ||
      st.amas.filter((a) => a.status === 'scheduled').sort((a, b) => a.startsAt - b.startsAt)[0] ||
      st.amas[0];
    await chooseAma(pick.id);
  }

  async function chooseAma(id) {
    st.ama = st.amas.find((a) => a.id === id) || null;
    if (!st.ama) return;
    select.value = id;
    setHash(`#/ama/${encodeURIComponent(id)}`);
    st.offset = 0;
    st.selected = null;
    if (closeLive) closeLive();
    closeLive = live({ ama: id }, { ama: refresh, resync: refresh });
    renderHeader();
    await refresh();
  }

  // A response for an AMA that is no longer the chosen one (picked another while it was on its way) is dropped:
  // otherwise a slow reply would switch the page back to the AMA the user just left.
  const stillChosen = (id) => !disposed && st.ama !== null && st.ama.id === id;

  async function refreshAma() {
    const id = st.ama.id;
    const fresh = await api(amaPath());
    if (!stillChosen(id)) return;
    st.ama = fresh;
    const i = st.amas.findIndex((a) => a.id === st.ama.id);
    if (i >= 0) st.amas[i] = st.ama;
    renderHeader();
  }

  async function refreshQuestions() {
    const q = new window.URLSearchParams({ status: st.status, sort: 'rank', limit: String(PAGE + 1), offset: String(st.offset) });
    const id = st.ama.id;
    const rows = await api(`${amaPath()}/questions?${q}`);
    if (!stillChosen(id)) return;
    st.hasMore = rows.length > PAGE;
    st.questions = rows.slice(0, PAGE);
    if (!st.questions.length && st.offset > 0) {
      st.offset = Math.max(0, st.offset - PAGE);
      return refreshQuestions();
    }
    renderList();
  }

  // A busy AMA nudges many times a second: at most one re-fetch in flight and two a second per open page.
  const refresh = coalesce(async () => {
    if (!st.ama || disposed) return;
    await Promise.all([refreshAma(), refreshQuestions()]);
  }, 500);

  // ---- rendering ----
  function renderHeader() {
    const a = st.ama;
    startBtn.disabled = !a || a.status !== 'scheduled';
    endBtn.disabled = !a || (a.status !== 'live' && a.status !== 'scheduled');
    recap.hidden = !a;
    if (!a) {
      statusBadge.textContent = '';
      whenText.textContent = '';
      return;
    }
    statusBadge.className = `badge ${a.status}`;
    statusBadge.textContent = a.status;
    whenText.textContent = `${a.when || when(a.startsAt)} · ${a.chats.length} chat${a.chats.length === 1 ? '' : 's'}${a.hosts.length ? ` · hosts ${a.hosts.join(', ')}` : ''}`;
    recap.href = `${amaPath()}/recap?format=md`;
    const opt = [...select.options].find((o) => o.value === a.id);
    if (opt) opt.textContent = `${a.title} · ${a.status} · ${when(a.startsAt)}`;
  }

  function askerName(a) {
    return a.userName || (a.user === 'anonymous' ? 'anonymous' : shortId(a.user));
  }

  function row(q) {
    const counts = {};
    for (const a of q.asks) counts[a.platform] = (counts[a.platform] || 0) + 1;
    const names = [...new Set(q.asks.map(askerName))];
    const details = h(
      'details',
      { class: 'asks', open: st.expanded.has(q.n), ontoggle: (e) => (e.target.open ? st.expanded.add(q.n) : st.expanded.delete(q.n)) },
      h('summary', {}, `${q.asks.length} ask${q.asks.length === 1 ? '' : 's'} · ${names.slice(0, 4).join(', ')}${names.length > 4 ? ` +${names.length - 4}` : ''}`),
      h(
        'ul',
        {},
        q.asks.map((a, i) =>
          h(
            'li',
            {},
            platformBadge(a.platform),
            ' ',
            h('strong', {}, askerName(a)),
            h('span', { class: 'muted small' }, ` in ${a.chat} · ${when(a.at)} `),
            a.url ? h('a', { href: a.url, target: '_blank', rel: 'noopener noreferrer' }, 'open') : null,
            h('div', {}, a.text),
            q.asks.length > 1 && (q.status === 'open' || q.status === 'pending')
              ? h('button', { type: 'button', class: 'link', onclick: (e) => (e.stopPropagation(), act(q, 'split', { ask: i + 1 })) }, 'Split into its own question')
              : null,
          ),
        ),
      ),
    );
    const actions = [];
    if (q.status === 'open') actions.push(h('button', { type: 'button', onclick: () => (select_(q.n), answerText.focus()) }, 'Answer'));
    if (q.status === 'pending') actions.push(h('button', { type: 'button', onclick: () => act(q, 'approve') }, 'Approve'));
    if (q.status === 'open' || q.status === 'pending') {
      actions.push(h('button', { type: 'button', class: 'danger', onclick: () => openReject(q) }, 'Reject…'));
      actions.push(h('button', { type: 'button', onclick: () => openMerge(q) }, 'Merge…'));
    }
    return h(
      'li',
      { class: 'q', id: `q-${q.n}`, dataset: { n: q.n }, 'aria-current': q.n === st.selected ? 'true' : 'false', onclick: (e) => !e.target.closest('button, a, summary') && select_(q.n) },
      h(
        'div',
        { class: 'q-head' },
        h('span', { class: 'qn' }, `Q${q.n}`),
        h('span', { class: 'votes', 'aria-label': `${q.votes} vote${q.votes === 1 ? '' : 's'}` }, `▲ ${q.votes}`),
        h('span', { class: `badge ${q.status}` }, q.status),
        Object.entries(counts).map(([p, n]) => platformBadge(p, n)),
      ),
      h('p', { class: 'q-text' }, q.text),
      q.answer ? h('p', { class: 'q-answer' }, h('span', { class: 'visually-hidden' }, 'Answer: '), q.answer) : null,
      details,
      actions.length ? h('div', { class: 'q-actions' }, actions) : null,
    );
  }

  function renderList() {
    const focusedN = document.activeElement && document.activeElement.closest && document.activeElement.closest('.q')?.dataset.n;
    if (!st.questions.length) {
      const empty = { open: 'No open questions yet. They appear here as people ask, live.', pending: 'Nothing waits for approval.' }[st.status] || 'Nothing here.';
      list.replaceChildren(h('li', { class: 'empty' }, empty));
    } else {
      list.replaceChildren(...st.questions.map(row));
    }
    if (st.selected === null || !st.questions.some((q) => q.n === st.selected)) {
      const first = st.questions.find((q) => q.status === 'open' || q.status === 'pending') || st.questions[0];
      st.selected = first ? first.n : null;
      markSelected();
    }
    if (focusedN) document.getElementById(`q-${focusedN}`)?.focus();
    prev.disabled = st.offset === 0;
    next.disabled = !st.hasMore;
    range.textContent = st.questions.length ? `${st.offset + 1}–${st.offset + st.questions.length}${st.hasMore ? '+' : ''}` : '';
    renderPanel();
  }

  function markSelected() {
    for (const li of list.querySelectorAll('.q')) li.setAttribute('aria-current', Number(li.dataset.n) === st.selected ? 'true' : 'false');
  }

  function current() {
    return st.questions.find((q) => q.n === st.selected) || null;
  }

  function renderPanel() {
    const q = current();
    const answerable = Boolean(q && q.status === 'open' && st.ama && st.ama.status !== 'closed' && st.ama.status !== 'cancelled');
    sendBtn.disabled = !answerable;
    answerText.disabled = !q || q.status === 'answered' || q.status === 'rejected';
    if (!q) {
      answerQ.textContent = 'Select a question (j / k).';
      answerWhere.replaceChildren();
      return;
    }
    answerQ.textContent = `Q${q.n}: ${q.text}`;
    const counts = {};
    for (const a of q.asks) counts[a.platform] = (counts[a.platform] || 0) + 1;
    answerWhere.replaceChildren('Asked on ', ...Object.entries(counts).map(([p, n]) => platformBadge(p, n)), ` · ▲ ${q.votes}`);
  }

  function select_(n) {
    if (st.selected !== null) st.drafts.set(st.selected, answerText.value);
    st.selected = n;
    answerText.value = st.drafts.get(n) || '';
    markSelected();
    renderPanel();
    const li = document.getElementById(`q-${n}`);
    if (li) li.scrollIntoView({ block: 'nearest' });
  }

  async function move(d) {
    const i = st.questions.findIndex((q) => q.n === st.selected);
    const j = i + d;
    if (j >= 0 && j < st.questions.length) return select_(st.questions[j].n);
    if (j >= st.questions.length && st.hasMore) {
      st.offset += PAGE;
      await refreshQuestions();
      if (st.questions[0]) select_(st.questions[0].n);
    } else if (j < 0 && st.offset > 0) {
      st.offset = Math.max(0, st.offset - PAGE);
      await refreshQuestions();
      const last = st.questions[st.questions.length - 1];
      if (last) select_(last.n);
    }
  }

  function skip() {
    if (st.selected !== null) st.drafts.delete(st.selected);
    answerText.value = '';
    void move(1);
  }

  async function page(d) {
    st.offset = Math.max(0, st.offset + d * PAGE);
    st.selected = null;
    await refreshQuestions();
    list.scrollIntoView({ block: 'start' });
  }

  function setStatus(s) {
    st.status = s;
    st.offset = 0;
    st.selected = null;
    for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-pressed', b.dataset.status === s ? 'true' : 'false');
    void refreshQuestions().catch((err) => toast(err.message, true));
  }

  // ---- actions ----
  async function act(q, what, body) {
    try {
      await api(`${amaPath()}/questions/${encodeURIComponent(q.id)}/${what}`, { method: 'POST', body: body || {} });
      toast(`Q${q.n} ${{ approve: 'approved', reject: 'rejected', merge: 'merged', split: 'split' }[what] || what}.`);
    } catch (err) {
      toast(err.message, true);
    }
    await refresh();
  }

  function openMerge(q) {
    dialogTarget = q;
    mergeInput.value = '';
    mergeDialog.querySelector('h3').textContent = `Merge Q${q.n} into…`;
    mergeDialog.showModal();
  }
  async function confirmMerge(e) {
    e.preventDefault();
    const into = mergeInput.value.trim().replace(/^q/i, '');
    if (!/^\d+$/.test(into)) return mergeInput.focus();
    mergeDialog.close();
    await act(dialogTarget, 'merge', { into: Number(into) });
  }
  function openReject(q) {
    dialogTarget = q;
    rejectInput.value = '';
    rejectDialog.querySelector('h3').textContent = `Reject Q${q.n}`;
    rejectDialog.showModal();
  }
  async function confirmReject(e) {
    e.preventDefault();
    rejectDialog.close();
    const reason = rejectInput.value.trim();
    await act(dialogTarget, 'reject', reason ? { reason } : {});
  }

  async function sendAnswer() {
    const q = current();
    const text = answerText.value.trim();
    if (!q || !text) {
      toast(q ? 'Type an answer first.' : 'Select a question first.', true);
      return answerText.focus();
    }
    sendBtn.disabled = true;
    try {
      const done = await api(`${amaPath()}/questions/${encodeURIComponent(q.id)}/answer`, { method: 'POST', body: { text } });
      st.drafts.delete(q.n);
      answerText.value = '';
      showDelivered(done);
      toast(`Q${done.n} answered.`);
      const i = st.questions.findIndex((x) => x.n === q.n);
      const nextQ = st.questions.slice(i + 1).find((x) => x.status === 'open');
      st.selected = nextQ ? nextQ.n : null;
    } catch (err) {
      toast(err.message, true);
    } finally {
      sendBtn.disabled = false;
    }
    await refresh();
  }

  function showDelivered(q) {
    const places = new Map();
    for (const a of q.asks) places.set(a.chat, { platform: a.platform, n: (places.get(a.chat)?.n || 0) + 1 });
    delivered.replaceChildren(
      h('p', {}, `Q${q.n} answered. The answer is posted as a reply under each ask:`),
      h('ul', { id: 'delivered-places' }, [...places].map(([chat, p]) => h('li', {}, platformBadge(p.platform), ` ${(PLATFORM[p.platform] || {}).name || p.platform} · ${chat} · ${p.n} ask${p.n === 1 ? '' : 's'}`))),
    );
  }

  async function lifecycle(what) {
    if (!st.ama) return;
    if (!window.confirm(what === 'start' ? `Start "${st.ama.title}" now? It opens in every linked chat.` : `End "${st.ama.title}" now? The recap is posted everywhere.`)) return;
    try {
      await api(`${amaPath()}/${what}`, { method: 'POST', body: {} });
      toast(what === 'start' ? 'The AMA is live.' : 'The AMA has ended.');
    } catch (err) {
      toast(err.message, true);
    }
    await refresh();
  }

  // ---- scheduling ----
  async function toggleSchedule(force) {
    const show = force ?? schedulePanel.classList.contains('hidden');
    schedulePanel.classList.toggle('hidden', !show);
    scheduleToggle.setAttribute('aria-expanded', String(show));
    if (show && !schedulePanel.firstChild) await buildScheduleForm();
    if (show) schedulePanel.querySelector('input')?.focus();
  }

  async function buildScheduleForm() {
    const chats = await knownChats().catch(() => []);
    const groups = [...new Set(chats.map((c) => groupOf(c.chat)))].slice(0, 50);
    const soon = new Date(Date.now() + 3600_000);
    soon.setMinutes(0, 0, 0);
    const local = new Date(soon.getTime() - soon.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const title = h('input', { id: 's-title', required: true, maxlength: '200' });
    const start = h('input', { id: 's-start', type: 'datetime-local', required: true, value: local });
    const duration = h('input', { id: 's-duration', type: 'number', min: '1', max: '10080', value: '60', required: true });
    const hosts = h('input', { id: 's-hosts', placeholder: '@alice, telegram:user:123', autocomplete: 'off' });
    const other = h('input', { id: 's-chats', placeholder: 'telegram:-100123, discord:456', autocomplete: 'off' });
    const boxes = groups.map((g) => h('label', {}, h('input', { type: 'checkbox', value: g }), ` ${g}`));
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'schedule-form',
        onsubmit: async (e) => {
          e.preventDefault();
          error.textContent = '';
          const picked = [...form.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value);
          const typed = other.value.split(/[\s,]+/).filter(Boolean);
          const body = {
            title: title.value.trim(),
            startsAt: new Date(start.value).toISOString(),
            durationMinutes: Number(duration.value),
            hosts: hosts.value.split(/[\s,]+/).filter(Boolean),
            chats: [...new Set([...picked, ...typed])],
            tz: window.Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
          };
          if (!body.chats.length) {
            error.textContent = 'Pick at least one chat.';
            return;
          }
          try {
            const ama = await api('/api/amas', { method: 'POST', body });
            toast(`Scheduled "${ama.title}".`);
            toggleSchedule(false);
            wantedId = ama.id;
            await loadAmas();
          } catch (err) {
            error.textContent = err.message;
          }
        },
      },
      h('div', {}, h('label', { for: 's-title' }, 'Title'), title),
      h('div', {}, h('label', { for: 's-start' }, 'Starts at (your time)'), start),
      h('div', {}, h('label', { for: 's-duration' }, 'Duration (minutes)'), duration),
      h('div', {}, h('label', { for: 's-hosts' }, 'Hosts'), hosts),
      h('fieldset', { class: 'chats-pick' }, h('legend', {}, 'Chats'), boxes.length ? boxes : h('span', { class: 'muted small' }, 'No chats seen yet.')),
      h('div', {}, h('label', { for: 's-chats' }, 'Other chat ids'), other),
      h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Schedule'), error),
    );
    schedulePanel.replaceChildren(h('h3', {}, 'Schedule an AMA'), form);
  }

  // ---- keyboard ----
  function onKey(e) {
    if (e.target === answerText && e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      return void sendAnswer();
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target.closest && e.target.closest('input, textarea, select, [contenteditable="true"]');
    if (typing) {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    if (root.querySelector('dialog[open]')) return;
    if (e.key === 'j') void move(1);
    else if (e.key === 'k') void move(-1);
    else if (e.key === 'a') {
      if (!current()) return;
      answerText.focus();
    } else if (e.key === 's') skip();
    else return;
    e.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  void loadAmas().catch((err) => toast(err.message, true));

  return () => {
    disposed = true;
    document.removeEventListener('keydown', onKey);
    if (closeLive) closeLive();
  };
}
