/** `keel bench watch` reports: the text tables and the HTML page (report.ts dispatches here). */
import { htmlTable, machineHtml, machineLine, page, table } from './report.js';
import { escapeHtml, lineChart } from './svg.js';
import type { WatchReport, WatchStepResult } from './watch.js';

const n = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

export function watchSystemName(r: WatchReport): string {
  if (r.options.system !== 'etcd') return 'Keel';
  return r.options.system_version !== undefined ? `etcd ${r.options.system_version}` : 'etcd';
}

const ended = (s: WatchStepResult): string =>
  Object.entries(s.watchers_ended)
    .map(([code, c]) => `${c} ${code}`)
    .join(', ') || '0';

const perMember = (s: WatchStepResult): string =>
  Object.entries(s.watchers_per_member)
    .map(([id, c]) => `${id}:${c}`)
    .join(' ');

const memberCpu = (s: WatchStepResult): number | null =>
  s.members.some((m) => m.cpu_percent === null) ? null : s.members.reduce((t, m) => t + m.cpu_percent!, 0);

const HEAD = [
  'step',
  'watchers',
  'puts/s',
  'events/s',
  'p50 ms',
  'p99',
  'max',
  'sent→p50',
  'sent→p99',
  'before ack',
  'lost',
  'dup',
  'reord',
  'unacked',
  'caught up',
  'ended',
  'members cpu %',
  'cpu µs/event',
];

function row(s: WatchStepResult): string[] {
  return [
    String(s.step),
    String(s.watchers),
    String(s.puts_per_sec),
    String(s.events_per_sec),
    n(s.latency_ms.p50, 2),
    n(s.latency_ms.p99, 2),
    n(s.latency_ms.max, 2),
    n(s.latency_from_send_ms?.p50, 2),
    n(s.latency_from_send_ms?.p99, 2),
    s.events > 0 ? `${((100 * s.before_ack) / s.events).toFixed(0)} %` : '-',
    String(s.lost),
    String(s.duplicated),
    String(s.reordered),
    String(s.unacked),
    `${s.caught_up}/${s.watchers}`,
    ended(s),
    n(memberCpu(s)),
    n(s.member_cpu_us_per_event),
  ];
}

function processRows(r: WatchReport): string[][] {
  return r.steps.flatMap((s) => [
    ...s.members.map((m) => [
      String(s.step),
      `${m.id} (pid ${m.pid ?? '-'})`,
      m.role,
      String(s.watchers_per_member[m.id] ?? 0),
      n(m.cpu_percent),
      n(m.rss_mb),
    ]),
    ...s.clients.map((c) => [
      String(s.step),
      `client (pid ${c.pid})`,
      'watchers',
      String(c.watchers),
      n(c.cpu_percent),
      n(c.rss_mb),
    ]),
  ]);
}

const PROCESS_HEAD = ['step', 'process', 'role', 'watchers', 'cpu %', 'rss MB'];

export function watchTable(r: WatchReport): string {
  const o = r.options;
  const rate = o.rate > 0 ? `${o.rate} puts/s paced` : 'flat out';
  return [
    `${watchSystemName(r)} watch fan-out, ${o.nodes} members${o.watch_on === 'followers' ? ' (watchers on the followers only)' : ''}, ${o.writers} writer(s) ${rate}, ${o.value_size} B values, ${o.workers} watcher processes, warm-up ${o.warmup_s} s + ${o.duration_s} s measured per step`,
    machineLine(r.machine),
    '',
    table(HEAD, r.steps.map(row)),
    '',
    table(PROCESS_HEAD, processRows(r)),
    '',
    'latency (p50 ms, p99, max): from the writer receiving the put acknowledgement (commit proxy) to a watcher receiving the event, 0 for receipts before the ack ("before ack"); sent→: from the put being sent (upper bound); one machine, one clock (CLOCK_MONOTONIC)',
    '',
  ].join('\n');
}

export function watchHtml(r: WatchReport, command: readonly string[]): string {
  const o = r.options;
  const cdf = lineChart({
    id: 'chart-watch-latency-cdf',
    title: 'delivery latency CDF per step (ack of the put to receipt)',
    xLabel: 'latency, ms (log)',
    yLabel: 'fraction of events',
    xLog: true,
    yMin: 0,
    yMax: 1,
    series: r.steps.map((s) => ({ name: `${s.watchers} watchers`, step: true, points: s.latency_cdf })),
  });
  const rate = o.rate > 0 ? `paced at ${o.rate} puts/s in total` : 'flat out (one put outstanding each)';
  const spreadNote =
    o.system === 'etcd'
      ? 'one etcd3 client per member in each watcher process; etcd3 multiplexes all of a client’s watches on one gRPC stream'
      : 'one KvClient (one ZeroMQ connection) per member in each watcher process; each watch is its own long poll';
  const body = [
    `<p>${escapeHtml(watchSystemName(r))}, ${o.nodes} members (${o.cluster === 'started' ? 'started by the bench' : 'external cluster'}). Watchers on one prefix, spread over ${o.workers} client processes and round-robin over ${o.watch_on === 'followers' ? `the ${o.nodes - 1} followers (the leader serves none)` : `the members (watcher <i>i</i> on member <i>i</i> mod ${o.nodes})`} (${escapeHtml(spreadNote)}). ${o.writers} writer(s) in a process of their own, ${escapeHtml(rate)}, ${o.value_size} B values; warm-up ${o.warmup_s} s and ${o.duration_s} s measured per step. Started ${escapeHtml(r.started_at)}.</p>`,
    '<p>Latency runs from the writer receiving the put’s acknowledgement (the commit-time proxy) to a watcher receiving the event, both stamped with the machine’s monotonic clock; a receipt before the ack counts as 0 (column “before ack”: the event and the ack race, and a busy machine schedules the writer late). “sent→” is from the put being sent instead: an upper bound, since the commit lies between send and ack. Events/s counts receipts, over all watchers, of the puts acknowledged in the measured window. Lost, duplicated and reordered count per watcher against the acknowledged revisions and must be 0.</p>',
    htmlTable(HEAD, r.steps.map(row)),
    cdf,
    htmlTable(PROCESS_HEAD, processRows(r)),
    `<p>Watchers per member: ${r.steps.map((s) => `${s.watchers}: ${escapeHtml(perMember(s))}`).join('; ')}.</p>`,
    '<h2>Machine</h2>',
    machineHtml(r.machine),
  ].join('\n');
  return page(`${watchSystemName(r)} bench: watch fan-out`, body, command);
}
