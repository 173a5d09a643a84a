import { sleep } from '@keel/ops';
import { afterEach, describe, expect, it } from 'vitest';
import { type MemberChange, type MemberInfo, MembershipClient, type MembersView } from '../src/index.js';
import { jsonServer } from './helpers.js';

/**
 * A stand-in for a member's HTTP admin endpoint: `GET /members` shows `members`, `POST /members`
 * answers with whatever `post` decides (after `delayMs`), so each test scripts the leader it needs.
 */
class FakeMember {
  members: MemberInfo[] = ['n1', 'n2', 'n3'].map((id) => voter(id));
  leads = false;
  commitIndex = 10;
  delayMs = 0;
  readonly posts: MemberChange[] = [];
  post: (c: MemberChange) => { status: number; body: unknown } = () => ({
    status: 200,
    body: { ok: true, index: 11 },
  });
  http = '';
  close: () => Promise<void> = async () => {};

  constructor(readonly id: string) {}

  async listen(): Promise<this> {
    const server = await jsonServer(async (method, _path, body) => {
      if (method === 'GET') return [200, this.view()];
      const c = body as MemberChange;
      this.posts.push(c);
      const r = this.post(c);
      await sleep(this.delayMs);
      return [r.status, r.body];
    });
    this.http = server.http;
    this.close = server.close;
    return this;
  }

  view(): MembersView {
    return {
      id: this.id,
      leader: this.leads ? this.id : null,
      commitIndex: this.commitIndex,
      members: this.members,
    };
  }
}

function voter(id: string, match: number | null = null): MemberInfo {
  return { id, role: 'voter', match };
}

const fakes: FakeMember[] = [];

async function cluster(n = 2): Promise<{ client: MembershipClient; members: FakeMember[] }> {
  const members = await Promise.all(
    Array.from({ length: n }, (_v, i) => new FakeMember(`n${i + 1}`).listen()),
  );
  fakes.push(...members);
  members[0]!.leads = true;
  const lookup = {
    members,
    leader: async () => {
      const i = members.findIndex((m) => m.leads);
      return i < 0 ? null : i;
    },
  };
  return { client: new MembershipClient(lookup), members };
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const remove = (id: string): MemberChange => ({ action: 'remove', id });

describe('membership changes from the nemesis', () => {
  it("sends the change to the leader and reports the leader's index", async () => {
    const { client, members } = await cluster();
    const r = await client.change(remove('n3'), 5000);
    expect(r).toEqual({ ok: true, index: 11, attempts: 1, detail: 'at index 11 (leader n1)' });
    expect(members[0]!.posts).toEqual([remove('n3')]);
    expect(members[1]!.posts).toEqual([]);
  });

  it('retries while another change is pending, and fails at once on a refusal retrying cannot fix', async () => {
    const { client, members } = await cluster();
    let n = 0;
    members[0]!.post = () =>
      ++n < 3
        ? { status: 409, body: { ok: false, reason: 'conf-change-pending', message: 'index 9' } }
        : { status: 200, body: { ok: true, index: 12 } };
    expect(await client.change(remove('n3'), 5000)).toMatchObject({ ok: true, index: 12, attempts: 3 });
    members[0]!.post = () => ({
      status: 400,
      body: { ok: false, reason: 'invalid-conf-change', message: "'n3' is the last voter" },
    });
    const refused = await client.change(remove('n3'), 5000);
    expect(refused).toMatchObject({ ok: false, attempts: 1 });
    expect(refused.detail).toBe("refused by n1: invalid-conf-change ('n3' is the last voter)");
  });

  it("confirms an unknown outcome against the new leader's configuration instead of sending it twice", async () => {
    const { client, members } = await cluster();
    const [n1, n2] = members as [FakeMember, FakeMember];
    // n1 removes itself: the change commits, n1 steps down before it answers, n2 takes over.
    n1.post = () => {
      n1.leads = false;
      n2.leads = true;
      n2.members = [voter('n2'), voter('n3')];
      return { status: 503, body: { ok: false, reason: 'timeout', message: 'may still take effect' } };
    };
    const r = await client.change(remove('n1'), 5000);
    expect(r).toEqual({
      ok: true,
      index: null,
      attempts: 1,
      detail: "confirmed after an unknown outcome by n2's configuration (commit 10)",
    });
    expect(n2.posts).toEqual([]);
  });

  it('gives up within its bound when no member leads', async () => {
    const { client, members } = await cluster();
    members[0]!.leads = false;
    const t0 = performance.now();
    const r = await client.change(remove('n3'), 300);
    expect(r).toEqual({ ok: false, index: null, attempts: 0, detail: 'gave up: no leader found' });
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('never has two changes in flight: the second waits until the first is answered', async () => {
    const { client, members } = await cluster();
    const leader = members[0]!;
    leader.delayMs = 100;
    let inFlight = 0;
    let most = 0;
    const post = leader.post;
    leader.post = (c) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => inFlight--, leader.delayMs);
      return post(c);
    };
    const [a, b] = await Promise.all([
      client.change(remove('n2'), 5000),
      client.change({ action: 'promote', id: 'n4' }, 5000),
    ]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(leader.posts.map((c) => c.action)).toEqual(['remove', 'promote']);
    expect(most).toBe(1);
  });

  it('waits until a learner holds what the leader had committed when the wait began', async () => {
    const { client, members } = await cluster();
    const leader = members[0]!;
    leader.commitIndex = 50;
    leader.members = [voter('n1'), voter('n2'), { ...voter('n3', 20), role: 'learner' }];
    setTimeout(() => {
      // It reaches the target while the commit index moves on: that must not keep it waiting.
      leader.commitIndex = 80;
      leader.members = [voter('n1'), voter('n2'), { ...voter('n3', 50), role: 'learner' }];
    }, 150);
    const r = await client.waitCaughtUp('n3', 5000);
    expect(r.ok).toBe(true);
    expect(r.detail).toMatch(/^n3 caught up to 50 in \d+ ms$/);
    leader.members = [voter('n1'), voter('n2'), { ...voter('n3', 0), role: 'learner' }];
    const late = await client.waitCaughtUp('n3', 200);
    expect(late).toEqual({ ok: false, detail: 'n3 did not catch up within 200 ms (0 of 80)' });
  });
});
