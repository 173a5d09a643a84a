import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stand-in for members' admin APIs: one HTTP server per id answering `/status` and `/metrics` from a mutable table. */
export interface FakeMember {
  readonly id: string;
  readonly http: string;
  role: string;
  term: number;
  leader: string | null;
  applied: number;
  up: boolean;
}

export async function fakeMembers(
  ids: readonly string[],
): Promise<{ members: FakeMember[]; close(): Promise<void> }> {
  const servers: Server[] = [];
  const members: FakeMember[] = [];
  for (const id of ids) {
    const m: FakeMember = { id, http: '', role: 'follower', term: 1, leader: null, applied: 0, up: true };
    const server = createServer((req, res) => {
      if (!m.up) {
        res.destroy();
        return;
      }
      if (req.url?.startsWith('/metrics')) {
        res.end(
          `keel_commit_latency_seconds_sum ${m.applied * 0.002}\nkeel_commit_latency_seconds_count ${m.applied}\n`,
        );
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id,
          clusterId: 'c',
          role: m.role,
          term: m.term,
          leader: m.leader,
          commitIndex: m.applied,
          appliedIndex: m.applied,
          lastIndex: m.applied,
          peers: ids
            .filter((x) => x !== id)
            .map((x) => ({
              id: x,
              match: m.applied,
              next: m.applied + 1,
              state: 'replicate',
              connected: true,
            })),
          conf: { voters: ids, learners: [] },
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    members.push(Object.assign(m, { http: `127.0.0.1:${(server.address() as AddressInfo).port}` }));
  }
  return {
    members,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

/** Makes `id` the leader of every fake member in `term`. */
export function elect(members: readonly FakeMember[], id: string, term: number): void {
  for (const m of members) {
    m.term = term;
    m.leader = id;
    m.role = m.id === id ? 'leader' : 'follower';
  }
}
