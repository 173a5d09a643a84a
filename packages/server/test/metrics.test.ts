import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientConnection } from '@keel/transport-zmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counter, counterService, freePort } from '../examples/counter.js';
import type { PeerAddress } from '../src/addresses.js';
import type { MemberHandle } from '../src/RunningMember.js';
import { startMember } from '../src/startMember.js';
import { checkExposition } from '../src/testing/index.js';

/** The metrics reference (apps/node/README.md): its table rows, `| \`name{labels}\` | type | ... |`. */
async function referenceTable(): Promise<Map<string, string>> {
  const readme = await readFile(new URL('../../../apps/node/README.md', import.meta.url), 'utf8');
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/^\| `(keel_[a-z_]+)(?:\{[^`]*\})?` \| (counter|gauge|histogram) \|/gm)) {
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Families in an exposition: name to TYPE. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE ([^ ]+) ([a-z]+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The value of the one series of `name` whose labels include `labels` (null: none). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return null;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const IDS = ['a', 'b', 'c'];
const REQUEST_LABELS = ['add', 'read', 'malformed', 'unknown'];
let dir = '';
let members: MemberHandle[] = [];
let http: number[] = [];
let clients: PeerAddress[] = [];
/** Each member's /metrics as scraped right after startMember resolved, before any request. */
let first: string[] = [];

const scrape = async (i: number): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${http[i]}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-metrics-'));
  const peers: PeerAddress[] = [];
  for (const id of IDS) {
    peers.push({ id, host: '127.0.0.1', port: await freePort() });
    clients.push({ id, host: '127.0.0.1', port: await freePort() });
    http.push(await freePort());
  }
  members = await Promise.all(
    IDS.map((id, i) => {
      const counter = new Counter();
      return startMember({
        id,
        dataDir: join(dir, id),
        peers,
        clients,
        http: { host: '127.0.0.1', port: http[i]! },
        stateMachine: counter,
        service: counterService,
        requestLabels: REQUEST_LABELS,
        stateGauges: [{ name: 'keel_counter_value', help: 'The counter', value: () => counter.value }],
      });
    }),
  );
  first = await Promise.all(IDS.map((_, i) => scrape(i)));
}, 30_000);

afterAll(async () => {
  await Promise.all(members.map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
  members = [];
  http = [];
  clients = [];
});

describe("a member's /metrics", () => {
  it('has every series of the reference from start, labelled ones for each closed label value and each peer', async () => {
    const reference = await referenceTable();
    expect(reference.size).toBeGreaterThan(30);
    for (const [i, text] of first.entries()) {
      const exported = families(text);
      for (const [name, type] of reference) {
        // Registered by the app (apps/node registers the KV and lease ones): not part of this generic member.
        if (name.startsWith('keel_kv_') || name.startsWith('keel_lease')) continue;
        expect(exported.get(name), `${name} on ${IDS[i]}`).toBe(type);
      }
      // Everything of ours that is exported is in the reference (the test's own state gauge aside).
      const ours = [...exported.keys()].filter((n) => n.startsWith('keel_') && n !== 'keel_counter_value');
      expect(ours.filter((n) => !reference.has(n))).toEqual([]);

      const others = IDS.filter((id) => id !== IDS[i]);
      for (const peer of others) {
        expect(value(text, 'keel_network_peer_sent_bytes_total', { peer }), peer).not.toBeNull();
        expect(value(text, 'keel_network_peer_received_bytes_total', { peer }), peer).not.toBeNull();
        expect(value(text, 'keel_network_peer_round_trip_time_seconds_count', { peer }), peer).not.toBeNull();
        expect(value(text, 'keel_raft_peer_lag_entries', { peer }), peer).not.toBeNull();
      }
      for (const kind of REQUEST_LABELS) expect(value(text, 'keel_client_requests_total', { kind })).toBe(0);
      for (const consistency of ['linearizable', 'lease', 'stale']) {
        expect(value(text, 'keel_reads_total', { consistency })).toBe(0);
      }
      for (const reason of ['not-leader', 'proposal-dropped', 'stopped', 'timeout']) {
        expect(value(text, 'keel_server_proposals_failed_total', { reason })).toBe(0);
      }
      for (const reason of ['queue-full', 'disconnected', 'unknown-peer']) {
        expect(value(text, 'keel_peer_messages_dropped_total', { reason })).not.toBeNull();
      }
      expect(value(text, 'keel_peer_frames_rejected_total', { reason: 'invalid-routing-id' })).toBe(0);
      for (const role of ['follower', 'pre-candidate', 'candidate', 'leader']) {
        expect(value(text, 'keel_raft_role', { role })).not.toBeNull();
      }
      expect(value(text, 'keel_build_info', { node_id: IDS[i]! })).toBe(1);
      expect(text).toMatch(/^keel_build_info\{version="\d+\.\d+\.\d+[^"]*",nodejs_version="v\d+/m);
      expect(value(text, 'keel_counter_value')).toBe(0);
    }
  });

  it('passes the exposition lint, and its series move with a leader, writes and heartbeats', async () => {
    for (const text of first) expect(checkExposition(text)).toEqual([]);

    // Writes through any member (followers forward them), retried while no leader is known.
    const conn = new ClientConnection({ address: `tcp://127.0.0.1:${clients[1]!.port}` });
    try {
      const utf8 = new TextEncoder();
      // 20 writes: more than one sampling period of the apply histogram (one apply in 16).
      for (let n = 1; n <= 20; n++) {
        const deadline = performance.now() + 15_000;
        for (;;) {
          const reply = JSON.parse(
            new TextDecoder().decode(
              await conn.request(utf8.encode(JSON.stringify({ add: n })), { timeoutMs: 5000 }),
            ),
          ) as { value?: number; error?: string };
          if (reply.value !== undefined) break;
          if (reply.error !== 'not-leader' || performance.now() > deadline)
            throw new Error(JSON.stringify(reply));
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    } finally {
      await conn.close();
    }
    const leader = (): number => members.findIndex((m) => m.status().role === 'leader');
    // The leader times heartbeat round trips to both followers (one heartbeat interval or so).
    // Who leads may change meanwhile: whichever member leads when the condition holds is checked.
    let text = '';
    await waitFor('round trips to both followers on the leader', async () => {
      const i = leader();
      if (i < 0) return false;
      text = await scrape(i);
      // A leader elected a moment ago may not have applied everything yet: wait for that too.
      return (
        (value(text, 'keel_server_proposals_applied_total') ?? 0) >= 21 &&
        IDS.filter((id) => id !== IDS[i]).every(
          (peer) => (value(text, 'keel_network_peer_round_trip_time_seconds_count', { peer }) ?? 0) > 0,
        )
      );
    });
    expect(checkExposition(text)).toEqual([]);
    expect(value(text, 'keel_server_has_leader')).toBe(1);
    expect(value(text, 'keel_server_leader_changes_seen_total')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'keel_server_proposals_committed_total')).toBeGreaterThanOrEqual(21);
    expect(value(text, 'keel_disk_wal_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(value(text, 'keel_disk_wal_write_bytes_total')).toBeGreaterThan(0);
    expect(value(text, 'keel_disk_wal_entries_total')).toBeGreaterThanOrEqual(21);
    expect(value(text, 'keel_server_apply_duration_seconds_count')).toBeGreaterThan(0);
    expect(value(text, 'keel_peer_messages_sent_total')).toBeGreaterThan(0);
    // Every write was answered: nothing this member proposed waits for an outcome.
    expect(value(text, 'keel_server_proposals_pending')).toBe(0);
    for (const peer of IDS.filter((id) => text.includes(`peer="${id}"`))) {
      expect(value(text, 'keel_network_peer_sent_bytes_total', { peer })).toBeGreaterThan(0);
    }
    // Every write went through member b: counted there by kind, whoever led.
    const b = await scrape(1);
    expect(value(b, 'keel_client_requests_total', { kind: 'add' })).toBeGreaterThanOrEqual(5);
    expect(checkExposition(b)).toEqual([]);
  }, 60_000);
});
