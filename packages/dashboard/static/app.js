// The dashboard page: one EventSource for the cluster's snapshots (the server pushes them; the
// page never polls), POSTs with the per-run token for the actions. Cards are built once per
// member and then only updated, so keyboard focus stays on a button while the numbers change.

const TOKEN = document.querySelector('meta[name="keel-dashboard-token"]').content;
const DESTRUCTIVE = new Set(['kill', 'stop', 'remove-member']);
const CARD_ACTIONS = [
  ['kill', 'Kill', true],
  ['stop', 'Stop', true],
  ['restart', 'Restart', false],
  ['pause', 'Pause', false],
  ['resume', 'Resume', false],
  ['isolate', 'Isolate', false],
  ['heal', 'Heal', false],
  ['transfer-leader', 'Make leader', false],
  ['remove-member', 'Remove', true],
];
const FIELDS = [
  ['state', 'state'],
  ['term', 'term'],
  ['leader', 'leader'],
  ['commit', 'commit'],
  ['applied', 'applied'],
  ['last', 'last index'],
  ['lag', 'lag'],
  ['ops', 'ops/s'],
  ['fsync', 'fsync'],
  ['commitMs', 'commit lat.'],
  ['pid', 'pid'],
];

const $ = (id) => document.getElementById(id);
const cards = new Map();
let snap = null;
let pending = false;

function text(v, unit = '') {
  return v === null || v === undefined ? '–' : `${v}${unit}`;
}

function makeCard(id) {
  const card = document.createElement('article');
  card.className = 'card';
  card.dataset.member = id;
  const h = document.createElement('h3');
  const name = document.createElement('span');
  name.textContent = id;
  const role = document.createElement('span');
  role.className = 'role';
  h.append(name, role);
  const dl = document.createElement('dl');
  const values = {};
  for (const [key, label] of FIELDS) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.dataset.field = key;
    values[key] = dd;
    dl.append(dt, dd);
  }
  const row = document.createElement('div');
  row.className = 'row';
  const buttons = {};
  for (const [action, label, danger] of CARD_ACTIONS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.dataset.action = action;
    b.dataset.id = id;
    b.setAttribute('aria-label', `${label} ${id}`);
    if (danger) b.className = 'danger';
    buttons[action] = b;
    row.append(b);
  }
  card.append(h, dl, row);
  $('members').append(card);
  const entry = { card, role, values, buttons };
  cards.set(id, entry);
  return entry;
}

function renderMembers(s) {
  const seen = new Set();
  for (const m of s.members) {
    seen.add(m.id);
    const c = cards.get(m.id) ?? makeCard(m.id);
    const isLeader = s.leader === m.id;
    c.card.className = `card state-${m.state}${isLeader ? ' leader' : ''}`;
    c.role.textContent = m.state !== 'running' ? m.state : (m.role ?? 'no answer');
    c.role.className = `role${isLeader ? ' leader' : ''}`;
    const v = c.values;
    v.state.textContent =
      m.state +
      (m.state === 'running' && !m.reachable ? ' (not answering)' : '') +
      (m.isolated ? ' (isolated)' : '');
    v.term.textContent = text(m.term);
    v.leader.textContent = text(m.leader);
    v.commit.textContent = text(m.commitIndex);
    v.applied.textContent = text(m.appliedIndex);
    v.last.textContent = text(m.lastIndex);
    v.lag.textContent = text(m.lag);
    v.ops.textContent = text(m.opsPerSec);
    v.fsync.textContent = text(m.fsyncMs, ' ms');
    v.commitMs.textContent = text(m.commitMs, ' ms');
    v.pid.textContent = text(m.pid);
    const live = m.state === 'running' || m.state === 'paused';
    const enable = {
      kill: live,
      stop: live,
      restart: true,
      pause: m.state === 'running',
      resume: m.state === 'paused',
      isolate: m.state === 'running' && m.reachable && !m.isolated,
      heal: m.state === 'running' && m.isolated,
      'transfer-leader': m.state === 'running' && !isLeader && s.leader !== null,
      'remove-member': s.leader !== null,
    };
    for (const [action, b] of Object.entries(c.buttons)) {
      b.hidden = !s.actions.includes(action);
      b.disabled = pending || !enable[action];
    }
  }
  for (const [id, c] of cards) {
    if (!seen.has(id)) {
      c.card.remove();
      cards.delete(id);
    }
  }
}

function renderReplication(s) {
  $('repl-leader').textContent = s.leader === null ? '(no leader)' : `(as ${s.leader} sees it)`;
  const body = $('replication').tBodies[0];
  const rows = s.replication.map((p) => {
    const tr = document.createElement('tr');
    const contact = p.lastContactMs === null || p.lastContactMs === undefined ? '–' : `${p.lastContactMs} ms`;
    for (const v of [p.id, text(p.match), text(p.next), text(p.state), p.connected ? 'yes' : 'no', contact]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  });
  body.replaceChildren(...rows);
  $('membership').textContent =
    s.conf === null
      ? ''
      : `voters: ${s.conf.voters.join(', ') || '–'}; learners: ${s.conf.learners.join(', ') || '–'}`;
}

function renderTimeline(s) {
  const ol = $('timeline');
  const items = [...s.timeline].reverse().map((e) => {
    const li = document.createElement('li');
    li.className = e.bad ? 'bad' : e.kind;
    const t = document.createElement('time');
    t.dateTime = new Date(e.at).toISOString();
    const clock = new Date(e.at).toLocaleTimeString([], { hour12: false });
    t.textContent = `${clock}.${String(e.at % 1000).padStart(3, '0')}`;
    li.append(t, document.createTextNode(e.text));
    return li;
  });
  const key =
    s.timeline.length === 0
      ? ''
      : `${s.timeline.length}:${s.timeline[s.timeline.length - 1].at}:${s.timeline[s.timeline.length - 1].text}`;
  if (ol.dataset.key !== key) {
    ol.dataset.key = key;
    ol.replaceChildren(...items);
  }
}

function renderLoad(s) {
  const l = s.load;
  $('wps').textContent = String(l.writesPerSec);
  $('p50').textContent = text(l.p50Ms);
  $('p99').textContent = text(l.p99Ms);
  $('load-totals').textContent =
    `${l.running ? 'running' : 'idle'}; ${l.ok} ok, ${l.failed} failed${l.lastError ? ` (last error: ${l.lastError})` : ''}`;
  $('load-start').disabled = !s.kv || l.running;
  $('load-stop').disabled = !s.kv || !l.running;
  $('kv-put').disabled = !s.kv;
  $('kv-get').disabled = !s.kv;
  $('kv-watch').disabled = !s.kv;
  $('kv-unwatch').disabled = !s.kv || s.watch === null;
  window.keelChart.draw($('chart'), l.history);
}

function renderWatch(s) {
  const w = s.watch;
  if (w === null) return;
  const what = w.prefix ? `keys starting with ${w.key}` : w.key;
  $('watch-head').textContent = w.error
    ? `watch of ${what} ended: ${w.error}`
    : `watching ${what}: ${w.count} event${w.count === 1 ? '' : 's'}${w.revision === null ? '' : `, up to revision ${w.revision}`}`;
  $('watch-head').className = w.error ? 'error' : '';
  const ol = $('watch-events');
  const key = `${w.key}:${w.count}`;
  if (ol.dataset.key === key) return;
  ol.dataset.key = key;
  ol.replaceChildren(
    ...[...w.events].reverse().map((e) => {
      const li = document.createElement('li');
      li.textContent =
        e.type === 'put' ? `#${e.revision} put ${e.key} = ${e.value}` : `#${e.revision} delete ${e.key}`;
      return li;
    }),
  );
}

function render(s) {
  snap = s;
  document.title = `Keel dashboard${s.leader ? ` — ${s.leader} leads` : ' — no leader'}`;
  $('cluster-name').textContent = s.name;
  const running = s.members.filter((m) => m.reachable).length;
  $('summary').textContent =
    s.leader === null
      ? `no leader${s.leaderlessSince ? ` for ${((Date.now() - s.leaderlessSince) / 1000).toFixed(1)} s` : ''}; ${running} of ${s.members.length} members answer`
      : `${s.leader} leads in term ${s.term}; ${running} of ${s.members.length} members answer`;
  $('summary').dataset.leader = s.leader ?? '';
  renderMembers(s);
  renderReplication(s);
  renderTimeline(s);
  renderLoad(s);
  renderWatch(s);
  for (const b of document.querySelectorAll('[data-needs]')) {
    b.hidden = !s.actions.includes(b.dataset.needs);
    b.disabled = pending;
  }
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-keel-dashboard-token': TOKEN },
    body: JSON.stringify(body),
  });
  return res.json();
}

function confirmAction(message) {
  const dialog = $('confirm');
  $('confirm-text').textContent = message;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

async function act(action, id, extra = {}) {
  if (DESTRUCTIVE.has(action) && !(await confirmAction(`${action} ${id}?`))) return;
  pending = true;
  if (snap) render(snap);
  try {
    const r = await post('/api/action', { action, id, ...extra });
    $('summary').textContent = r.message;
  } catch (err) {
    $('summary').textContent = `request failed: ${err.message}`;
  } finally {
    pending = false;
    if (snap) render(snap);
  }
}

$('members').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (b) act(b.dataset.action, b.dataset.id);
});
$('add-voter').addEventListener('click', () => act('add-member', null, { learner: false }));
$('add-learner').addEventListener('click', () => act('add-member', null, { learner: true }));
$('load-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await post('/api/load/start', {
    rate: Number($('load-rate').value),
    concurrency: Number($('load-conc').value),
    durationMs: Number($('load-secs').value) * 1000,
  });
  $('load-totals').textContent = r.message;
});
$('load-stop').addEventListener('click', async () => {
  const r = await post('/api/load/stop', {});
  $('load-totals').textContent = r.message;
});
$('kv-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await post('/api/kv/put', { key: $('kv-key').value, value: $('kv-value').value });
  $('kv-result').textContent = r.message;
  $('kv-result').className = r.ok ? '' : 'error';
});
$('kv-watch').addEventListener('click', async () => {
  const r = await post('/api/kv/watch', { key: $('kv-key').value, prefix: $('kv-prefix').checked });
  $('kv-result').textContent = r.message;
  $('kv-result').className = r.ok ? '' : 'error';
});
$('kv-unwatch').addEventListener('click', async () => {
  const r = await post('/api/kv/unwatch', {});
  $('kv-result').textContent = r.message;
});
$('kv-get').addEventListener('click', async () => {
  const r = await post('/api/kv/get', { key: $('kv-key').value });
  $('kv-result').textContent = r.message;
  $('kv-result').className = r.ok ? '' : 'error';
});

const events = new EventSource('/events');
events.onmessage = (e) => render(JSON.parse(e.data));
events.onerror = () => {
  $('summary').textContent = 'connection to the dashboard lost; retrying…';
};
