import type { Message, Ready, SoftState } from '@keel/core';
import type { PeerTransportMetrics } from '@keel/transport-zmq';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeartbeatRtt } from '../src/heartbeatRtt.js';
import { counter, gauge, histogram } from '../src/metricKit.js';
import { NodeMetrics } from '../src/metrics.js';
import { RoleWatcher } from '../src/roleChange.js';
import { checkExposition } from '../src/testing/index.js';
import { APPLY_SAMPLE_EVERY, timedApply } from '../src/timedApply.js';

const hb = (to: string): Message => ({ type: 'heartbeat', from: 'a', to, term: 1, commit: 0, context: 0 });
const hbResp = (from: string): Message => ({ type: 'heartbeatResp', from, to: 'a', term: 1, context: 0 });

afterEach(() => {
  vi.useRealTimers();
});

describe('peer round trips from heartbeats', () => {
  it('times each heartbeat to its answer, per peer; a lost one (unanswered for the timeout) is not counted', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const seen: [string, number][] = [];
    const rtt = new HeartbeatRtt(150, (peer, s) => seen.push([peer, Math.round(s * 1000)]));
    rtt.sending([hb('b'), hb('c'), { type: 'timeoutNow', from: 'a', to: 'b', term: 1 }]);
    vi.advanceTimersByTime(2);
    rtt.received(hbResp('b'));
    vi.advanceTimersByTime(3);
    rtt.received(hbResp('c'));
    // An answer with no heartbeat out (a second answer, or another message type) measures nothing.
    rtt.received(hbResp('b'));
    rtt.received({
      type: 'appResp',
      from: 'c',
      to: 'a',
      term: 1,
      index: 1,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    expect(seen).toEqual([
      ['b', 2],
      ['c', 5],
    ]);

    // The next heartbeat while one is out keeps the first send time: answers come in order.
    rtt.sending([hb('b')]);
    vi.advanceTimersByTime(1);
    rtt.sending([hb('b')]);
    vi.advanceTimersByTime(1);
    rtt.received(hbResp('b'));
    expect(seen.at(-1)).toEqual(['b', 2]);

    // Lost: unanswered past the timeout, the next heartbeat starts a fresh measurement.
    rtt.sending([hb('c')]);
    vi.advanceTimersByTime(200);
    rtt.sending([hb('c')]);
    vi.advanceTimersByTime(1);
    rtt.received(hbResp('c'));
    expect(seen.at(-1)).toEqual(['c', 1]);

    // A disconnection forgets the heartbeat in flight; a late answer after the timeout is dropped.
    rtt.sending([hb('b'), hb('c')]);
    rtt.disconnected('b');
    vi.advanceTimersByTime(151);
    rtt.received(hbResp('b'));
    rtt.received(hbResp('c'));
    expect(seen).toHaveLength(4);
  });
});

describe('leader changes and has_leader (from the Readys a member sees)', () => {
  it('counts a new known leader as etcd does, and sets has_leader', async () => {
    const metrics = new NodeMetrics({ nodeId: 'a' });
    const watcher = new RoleWatcher(metrics, pino({ level: 'silent' }), () => true);
    const ready = (ss: SoftState): Ready => ({ softState: ss }) as unknown as Ready;
    const steps: [SoftState, number, number][] = [
      [{ role: 'follower', term: 1, leader: null }, 0, 0],
      [{ role: 'follower', term: 1, leader: 'b' }, 1, 1],
      [{ role: 'follower', term: 1, leader: 'b' }, 1, 1],
      [{ role: 'pre-candidate', term: 1, leader: null }, 1, 0],
      [{ role: 'follower', term: 2, leader: 'b' }, 2, 1], // b again after none: a change, as in etcd
      [{ role: 'follower', term: 3, leader: 'c' }, 3, 1],
      [{ role: 'leader', term: 4, leader: 'a' }, 4, 1],
    ];
    for (const [ss, changes, hasLeader] of steps) {
      watcher.observe(ready(ss));
      expect(await value(metrics, 'keel_server_leader_changes_seen_total'), JSON.stringify(ss)).toBe(changes);
      expect(await value(metrics, 'keel_server_has_leader'), JSON.stringify(ss)).toBe(hasLeader);
    }
    expect(await value(metrics, 'keel_elections_won_total')).toBe(1);
    expect(await value(metrics, 'keel_elections_started_total')).toBe(1);
    expect(checkExposition(await metrics.text())).toEqual([]);
  });
});

describe('per-peer series', () => {
  it('exist for each peer of the configuration from the first refresh, and go when it leaves', async () => {
    const metrics = new NodeMetrics({ nodeId: 'a' });
    const transport = (bytes: [string, number][]): PeerTransportMetrics =>
      ({
        sent: 0,
        received: 0,
        dropped: {},
        framesRejected: {},
        peerBytes: new Map(bytes.map(([id, n]) => [id, { sent: n, received: 2 * n }])),
      }) as unknown as PeerTransportMetrics;
    const peers = async (): Promise<string[]> =>
      [
        ...(await metrics.text()).matchAll(
          /^keel_network_peer_sent_bytes_total\{peer="([^"]+)".*\} (\d+)$/gm,
        ),
      ].map((m) => `${m[1]}=${m[2]}`);
    metrics.network.refresh(transport([]), ['b', 'c'], () => 0);
    expect(await peers()).toEqual(['b=0', 'c=0']);
    metrics.network.observeRoundTrip('b', 0.001);
    metrics.network.observeRoundTrip('x', 0.001); // not a member: ignored
    // d joins (a learner added), c leaves; the transport still counts c's bytes.
    metrics.network.refresh(
      transport([
        ['b', 10],
        ['c', 5],
        ['d', 7],
      ]),
      ['b', 'd'],
      (p) => (p === 'd' ? 3 : 0),
    );
    expect(await peers()).toEqual(['b=10', 'd=7']);
    const text = await metrics.text();
    expect(text).toMatch(/^keel_network_peer_received_bytes_total\{peer="d",node_id="a"\} 14$/m);
    expect(text).toMatch(/^keel_network_peer_round_trip_time_seconds_count\{node_id="a",peer="b"\} 1$/m);
    expect(text).toMatch(/^keel_network_peer_round_trip_time_seconds_count\{node_id="a",peer="d"\} 0$/m);
    expect(text).toMatch(/^keel_raft_peer_lag_entries\{peer="d",node_id="a"\} 3$/m);
    expect(text).not.toMatch(/peer="[cx]"/);
    expect(checkExposition(text)).toEqual([]);
  });
});

describe('the conventions where metrics are made', () => {
  it('refuses a counter without _total, a gauge with it, a histogram without its unit', () => {
    const { registry: r } = new NodeMetrics({ nodeId: 'x' });
    expect(() => counter(r, 'keel_things', 'h')).toThrow(/ends in _total/);
    expect(() => gauge(r, 'keel_things_total', 'h')).toThrow(/_total is for counters/);
    expect(() => histogram(r, 'keel_wait_ms', 'h', [1])).toThrow(/name its unit/);
  });

  it("exports a state machine's gauges, read at each scrape", async () => {
    let keys = 3;
    const metrics = new NodeMetrics({
      nodeId: 'a',
      stateGauges: [{ name: 'keel_kv_keys', help: 'Keys', value: () => keys }],
    });
    expect(await value(metrics, 'keel_kv_keys')).toBe(3);
    keys = 7;
    expect(await value(metrics, 'keel_kv_keys')).toBe(7);
  });
});

async function value(metrics: NodeMetrics, name: string): Promise<number | null> {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await metrics.text());
  return m === null ? null : Number(m[1]);
}

describe('apply timing (sampled)', () => {
  it('times one apply in APPLY_SAMPLE_EVERY and passes every apply, snapshot and restore through', () => {
    const seen: number[] = [];
    const applied: number[] = [];
    const machine = {
      apply: (e: { index: number }) => {
        applied.push(e.index);
        return e.index * 2;
      },
      snapshot: () => new Uint8Array([1]),
      restore: (_d: Uint8Array) => {},
    };
    const timed = timedApply(machine, (s) => seen.push(s));
    const results: number[] = [];
    for (let i = 1; i <= 3 * APPLY_SAMPLE_EVERY + 1; i++) {
      results.push(timed.apply({ index: i, term: 1, type: 1, data: new Uint8Array(0) }) as number);
    }
    expect(applied).toHaveLength(3 * APPLY_SAMPLE_EVERY + 1);
    expect(results[4]).toBe(10);
    expect(seen).toHaveLength(3);
    for (const s of seen) expect(s).toBeGreaterThanOrEqual(0);
    expect(timed.snapshot?.()).toEqual(new Uint8Array([1]));
    expect(typeof timed.restore).toBe('function');
  });
});
