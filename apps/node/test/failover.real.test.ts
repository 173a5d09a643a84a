import type { ClientChannel } from '@keel/core';
import { KvClientError } from '@keel/kv';
import { checkExposition } from '@keel/server/testing';
import { ClientConnection } from '@keel/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { agreedLeader, kvClient, startCluster, type TestMember } from './helpers/cluster.js';
import { killAll, waitFor } from './helpers/procs.js';

afterEach(killAll);

const WRITERS = 8;
/** Every load loop is bounded in count as well as by the test's own condition. */
const MAX_PUTS_PER_WRITER = 3000;

/**
 * How failed requests ended, by error code; `inFlightAtStop` counts only those made before
 * `stopAt` (set just before the member is signalled).
 */
class Failures {
  stopAt = Number.POSITIVE_INFINITY;
  readonly all = new Map<string, number>();
  readonly inFlightAtStop = new Map<string, number>();

  connect = (address: string): ClientChannel => {
    const conn = new ClientConnection({ address: `tcp://${address}` });
    return {
      state: () => conn.state(),
      close: () => conn.close(),
      request: (payload, options) => {
        const madeAt = performance.now();
        return conn.request(payload, options).catch((err: unknown) => {
          const code = (err as { code?: string }).code ?? 'other';
          this.all.set(code, (this.all.get(code) ?? 0) + 1);
          if (madeAt < this.stopAt) this.inFlightAtStop.set(code, (this.inFlightAtStop.get(code) ?? 0) + 1);
          throw err;
        });
      },
    };
  };
}

interface Writers {
  /** Puts acknowledged so far, over all writers. */
  readonly acked: () => number;
  /** Ends the loops once each has done `more` further puts; resolves with every failure seen. */
  finish(more: number): Promise<{ errors: KvClientError[]; lastKeys: string[] }>;
}

function startWriters(members: readonly TestMember[], failures: Failures): Writers {
  let acked = 0;
  let stopAt: number[] | null = null;
  const done = Array.from({ length: WRITERS }, () => 0);
  const errors: KvClientError[] = [];
  const lastKeys: string[] = [];
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    const kv = kvClient(members, { connect: failures.connect, hedge: false });
    try {
      for (let i = 0; i < MAX_PUTS_PER_WRITER; i++) {
        if (stopAt !== null && done[w]! >= stopAt[w]!) break;
        const key = `w${w}/${i}`;
        try {
          await kv.put(key, `${i}`);
          lastKeys[w] = key;
          acked++;
        } catch (err) {
          if (!(err instanceof KvClientError)) throw err;
          errors.push(err);
        }
        done[w]!++;
      }
    } finally {
      await kv.close();
    }
  });
  return {
    acked: () => acked,
    async finish(more) {
      stopAt = done.map((d) => d + more);
      await Promise.all(loops);
      return { errors, lastKeys };
    },
  };
}

describe('failover under writing clients (real processes)', () => {
  it('a graceful stop of the leader answers every request in flight; clients move on', async () => {
    const members = await startCluster(3);
    const leader = await agreedLeader(members);
    const failures = new Failures();
    const writers = startWriters(members, failures);
    await waitFor('writes flowing', () => (writers.acked() >= 200 ? true : undefined), 30_000);
    // Under load, every member's exposition follows the Prometheus conventions and carries the
    // per-peer series for each of its peers.
    for (const m of members) {
      const text = await (await fetch(`http://${m.httpHost}:${m.http}/metrics`)).text();
      expect(checkExposition(text), `${m.id}'s /metrics`).toEqual([]);
      for (const peer of members.filter((p) => p !== m)) {
        for (const name of [
          'keel_network_peer_sent_bytes_total',
          'keel_network_peer_round_trip_time_seconds_count',
        ]) {
          const series = text.split('\n').filter((l) => l.startsWith(`${name}{`));
          expect(
            series.some((l) => l.includes(`node_id="${m.id}"`) && l.includes(`peer="${peer.id}"`)),
            `${m.id}: ${name} for ${peer.id}`,
          ).toBe(true);
        }
      }
    }
    failures.stopAt = performance.now();
    leader.proc.child.kill('SIGTERM');
    expect(await leader.proc.exited).toBe(0);
    const rest = members.filter((m) => m !== leader);
    await agreedLeader(rest);
    const { errors, lastKeys } = await writers.finish(50);
    // Every put completed, no request waited out its timeout, and every request in flight when
    // the stop began got its answer (not-leader / stopped, with the new leader's id) before the
    // member closed. (A client whose event loop lags behind the member's going-away notice may
    // still send a request into the closed socket later: that one fails at once as
    // KEEL_CHANNEL_DISCONNECTED, outcome unknown, and is retried under its session.)
    expect(errors.map((e) => `${e.code} (${e.outcome}): ${e.message}`)).toEqual([]);
    expect(failures.all.get('KEEL_REQUEST_TIMEOUT') ?? 0).toBe(0);
    expect(Object.fromEntries(failures.inFlightAtStop)).toEqual({});
    const kv = kvClient(rest);
    try {
      for (const key of lastKeys) expect((await kv.get(key)).kv).not.toBeNull();
    } finally {
      await kv.close();
    }
  });

  it('with 2 of 5 members SIGKILLed (the leader among them), every request completes', async () => {
    const members = await startCluster(5);
    const leader = await agreedLeader(members);
    const failures = new Failures();
    const writers = startWriters(members, failures);
    await waitFor('writes flowing', () => (writers.acked() >= 200 ? true : undefined), 30_000);
    const follower = members.find((m) => m !== leader)!;
    leader.proc.child.kill('SIGKILL');
    follower.proc.child.kill('SIGKILL');
    await Promise.all([leader.proc.exited, follower.proc.exited]);
    const rest = members.filter((m) => m !== leader && m !== follower);
    await agreedLeader(rest);
    const { errors, lastKeys } = await writers.finish(50);
    expect(errors.map((e) => `${e.code} (${e.outcome}): ${e.message}`)).toEqual([]);
    const kv = kvClient(rest);
    try {
      for (const key of lastKeys) expect((await kv.get(key)).kv).not.toBeNull();
    } finally {
      await kv.close();
    }
  });
});
