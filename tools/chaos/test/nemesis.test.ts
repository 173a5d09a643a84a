import { sleep } from '@keel/ops';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChaosCluster,
  type FaultEvent,
  type FaultStep,
  type MemberChange,
  type MembersView,
  Nemesis,
} from '../src/index.js';
import { jsonServer } from './helpers.js';

/**
 * The admin endpoint of a stand-in cluster led by n1: each `POST /members` commits after a moment,
 * learners are caught up at once, and every configuration it goes through is recorded.
 */
class FakeLeader {
  voters: string[];
  learners: string[] = [];
  index = 10;
  readonly changes: string[] = [];
  fewestVoters: number;
  mostInFlight = 0;
  /** Actions answered with a refusal that retrying cannot fix. */
  readonly refuse = new Set<MemberChange['action']>();
  private inFlight = 0;

  constructor(nodes: number) {
    this.voters = Array.from({ length: nodes }, (_v, i) => `n${i + 1}`);
    this.fewestVoters = nodes;
  }

  view(): MembersView {
    const info = (role: 'voter' | 'learner') => (id: string) => ({ id, role, match: this.index });
    return {
      id: 'n1',
      leader: 'n1',
      commitIndex: this.index,
      members: [...this.voters.map(info('voter')), ...this.learners.map(info('learner'))],
    };
  }

  readonly handle = async (method: string, _path: string, body: unknown): Promise<[number, unknown]> => {
    if (method === 'GET') return [200, this.view()];
    const c = body as MemberChange;
    if (this.refuse.has(c.action))
      return [400, { ok: false, reason: 'invalid-conf-change', message: 'refused by the test' }];
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    await sleep(20);
    this.inFlight--;
    const without = (xs: string[]) => xs.filter((x) => x !== c.id);
    if (c.action === 'remove') [this.voters, this.learners] = [without(this.voters), without(this.learners)];
    if (c.action === 'add') this.learners = [...this.learners, c.id];
    if (c.action === 'promote')
      [this.voters, this.learners] = [[...this.voters, c.id], without(this.learners)];
    this.changes.push(`${c.action} ${c.id}`);
    this.fewestVoters = Math.min(this.fewestVoters, this.voters.length);
    return [200, { ok: true, index: ++this.index }];
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A nemesis over `nodes` stand-in members whose HTTP endpoints all reach `leader`. */
async function nemesisOver(nodes: number): Promise<{ nemesis: Nemesis; leader: FakeLeader; log: string[] }> {
  const leader = new FakeLeader(nodes);
  const server = await jsonServer(leader.handle);
  closers.push(server.close);
  const members = leader.voters.map((id, index) => ({
    id,
    index,
    http: server.http,
    client: `127.0.0.1:${8100 + index}`,
    peer: `127.0.0.1:${8000 + index}`,
    paused: false,
  }));
  // Only what membership steps and the heal touch: no processes, no network.
  const cluster = {
    members,
    leader: async () => 0,
    running: () => true,
    network: { heal: async () => {} },
  } as unknown as ChaosCluster;
  const log: string[] = [];
  return {
    nemesis: new Nemesis(
      cluster,
      () => performance.now(),
      (l) => log.push(l),
    ),
    leader,
    log,
  };
}

const lend = (index: number, atMs: number, durationMs = 100): FaultStep => ({
  atMs,
  durationMs,
  action: { kind: 'membership', target: { kind: 'member', index } },
});

const trip = (id: string) => [`remove ${id}`, `add ${id}`, `promote ${id}`];

const notesOf = (events: readonly FaultEvent[], id: string) =>
  events.filter((e) => e.kind === 'membership' && e.members[0] === id).flatMap((e) => e.notes);

describe('membership steps in the nemesis', () => {
  it('with 3 members, hold one out at a time: the second waits until the first is a voter again', async () => {
    const { nemesis, leader } = await nemesisOver(3);
    await nemesis.run([lend(1, 0), lend(2, 30)], performance.now());
    expect(leader.changes).toEqual([...trip('n2'), ...trip('n3')]);
    expect(leader.fewestVoters).toBe(2);
    expect(leader.mostInFlight).toBe(1);
    expect(leader.voters.sort()).toEqual(['n1', 'n2', 'n3']);
    const notes = notesOf(nemesis.events, 'n2');
    expect(notes[0]).toMatch(/^removed n2 at index 11 \(leader n1\), 1 attempt$/);
    expect(notes[1]).toMatch(/^re-added n2 as a learner at index 12 \(leader n1\), 1 attempt$/);
    expect(notes[2]).toMatch(/^n2 caught up to 12 in \d+ ms$/);
    expect(notes[3]).toMatch(/^promoted n2 to voter at index 13 \(leader n1\), 1 attempt$/);
    expect(nemesis.events.every((e) => e.end !== null)).toBe(true);
  });

  it('with 5 members, hold at most two out (3 voters stay), one change in flight at a time', async () => {
    const { nemesis, leader } = await nemesisOver(5);
    await nemesis.run([lend(1, 0), lend(2, 0), lend(3, 0)], performance.now());
    expect(leader.fewestVoters).toBe(3);
    expect(leader.mostInFlight).toBe(1);
    expect(leader.changes).toHaveLength(9);
    expect(leader.voters.sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
  });

  it('never lends the same member twice at once', async () => {
    const { nemesis, leader, log } = await nemesisOver(5);
    await nemesis.run([lend(1, 0), lend(1, 10)], performance.now());
    expect(leader.changes).toEqual(trip('n2'));
    expect(nemesis.events.filter((e) => e.kind === 'membership')).toHaveLength(1);
    expect(log.some((l) => l.includes('membership skipped (n2 is out already)'))).toBe(true);
  });

  it('the heal makes a member left a learner a voter again, and says so on its event', async () => {
    const { nemesis, leader } = await nemesisOver(3);
    leader.refuse.add('promote');
    const run = nemesis.run([lend(1, 0, 50)], performance.now());
    // The step re-adds n2 and keeps trying to promote it; the run ends before it can.
    const refused = () => notesOf(nemesis.events, 'n2').some((n) => n.startsWith('promoting failed'));
    const deadline = performance.now() + 5000;
    while (!refused() && performance.now() < deadline) await sleep(10);
    expect(leader.learners).toEqual(['n2']);
    leader.refuse.delete('promote');
    await nemesis.healAll();
    await run;
    expect(leader.voters.sort()).toEqual(['n1', 'n2', 'n3']);
    expect(leader.learners).toEqual([]);
    const notes = notesOf(nemesis.events, 'n2');
    expect(notes).toContain(
      'promoting failed: n2 to voter refused by n1: invalid-conf-change (refused by the test), 1 attempt',
    );
    expect(
      notes.some((n) => /^heal: promoted n2 to voter at index \d+ \(leader n1\), 1 attempt$/.test(n)),
    ).toBe(true);
  });
});

describe('transfers in the nemesis', () => {
  it('never sends a second SIGTERM to a leader still handing over (it would exit at once, code 1)', async () => {
    const signals: string[] = [];
    const members = ['n1', 'n2', 'n3'].map((id, index) => ({ id, index, paused: false }));
    let gone = false;
    const cluster = {
      members,
      awaitLeader: async () => 0,
      leader: async () => 1,
      running: () => !gone,
      signal: (m: { id: string }, sig: string) => signals.push(`${sig} ${m.id}`),
      // The leader takes a while to hand over and exit, as a loaded one does.
      waitGone: async () => {
        await sleep(100);
        gone = true;
        return true;
      },
      restart: () => {
        gone = false;
      },
    } as unknown as ChaosCluster;
    const log: string[] = [];
    const nemesis = new Nemesis(
      cluster,
      () => performance.now(),
      (l) => log.push(l),
    );
    const transfer = (atMs: number): FaultStep => ({ atMs, durationMs: 10, action: { kind: 'transfer' } });
    await nemesis.run([transfer(0), transfer(20)], performance.now());
    expect(signals).toEqual(['SIGTERM n1']);
    expect(log.some((l) => /transfer skipped \(n1 is already handing over and stopping\)/.test(l))).toBe(
      true,
    );
  });
});
