import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { busyPorts, freeBasePort, freePorts, memberPorts, portFree } from '../src/index.js';

describe('port scheme', () => {
  it('gives member i peer B+i, client B+100+i, http B+200+i', () => {
    expect(memberPorts(7100, 1)).toEqual({ peer: 7101, client: 7201, http: 7301 });
    expect(memberPorts(7100, 7)).toEqual({ peer: 7107, client: 7207, http: 7307 });
    expect(memberPorts(20000, 3)).toEqual({ peer: 20003, client: 20103, http: 20203 });
  });

  it('keeps the ports of different members and kinds apart for up to 9 members', () => {
    const all = Array.from({ length: 9 }, (_v, i) => memberPorts(7100, i + 1)).flatMap((p) => [
      p.peer,
      p.client,
      p.http,
    ]);
    expect(new Set(all).size).toBe(27);
  });

  it('finds ports that something listens on', async () => {
    const base = await freeBasePort(1, 18000, 19000);
    const port = memberPorts(base, 1).peer;
    expect(await portFree('127.0.0.1', port)).toBe(true);
    const server = createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      expect(await portFree('127.0.0.1', port)).toBe(false);
      expect(await busyPorts('127.0.0.1', [port, port + 100])).toEqual([port]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('freePorts gives distinct ports nothing listens on, below the ephemeral range', async () => {
    const ports = await freePorts(4);
    expect(new Set(ports).size).toBe(4);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20000);
      expect(p).toBeLessThan(32000);
      expect(await portFree('127.0.0.1', p)).toBe(true);
    }
  });
});
