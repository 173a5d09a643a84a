import { afterEach, describe, expect, it } from 'vitest';
import { agreedLeader, kvClient, startCluster } from './helpers/cluster.js';
import { killAll, status } from './helpers/procs.js';

afterEach(killAll);

const text = new TextEncoder();

describe('keel node on IPv6', () => {
  it('three members on [::1] (peers, clients, HTTP) elect a leader and serve writes and reads', async () => {
    const members = await startCluster(3, '[::1]');
    const leader = await agreedLeader(members);
    expect((await status(leader.http, '[::1]')).addresses.peer).toMatch(/^\[::1\]:\d+$/);
    const kv = kvClient(members);
    try {
      await kv.put(text.encode('v6'), text.encode('works'));
      const got = await kv.get(text.encode('v6'));
      expect(new TextDecoder().decode(got.kv?.value)).toBe('works');
    } finally {
      await kv.close();
    }
  }, 60_000);
});
