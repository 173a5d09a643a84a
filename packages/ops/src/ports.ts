import { createServer } from 'node:net';

/** Local clusters listen on loopback only: they are development and measurement tools. */
export const LOOPBACK = '127.0.0.1';

export interface MemberPorts {
  readonly peer: number;
  readonly client: number;
  readonly http: number;
}

/**
 * The port scheme of local clusters, from a base port B and the member's 1-based index i: peer
 * B+i, client B+100+i, HTTP B+200+i. With B=7100, n1 uses 7101, 7201 and 7301.
 */
export function memberPorts(basePort: number, index: number): MemberPorts {
  return { peer: basePort + index, client: basePort + 100 + index, http: basePort + 200 + index };
}

/** True when nothing listens on host:port (checked by binding it for a moment). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The ports of the list that something already holds, in order. */
export async function busyPorts(host: string, ports: readonly number[]): Promise<number[]> {
  const free = await Promise.all(ports.map((p) => portFree(host, p)));
  return ports.filter((_p, i) => !free[i]);
}

/**
 * A base port B (a multiple of 10 in [lo, hi)) whose ports for `size` members (`memberPorts`)
 * are all free on `host` right now. The default range stays below the Linux ephemeral range
 * (32768), so an outgoing connection cannot take a port before its member binds it.
 */
export async function freeBasePort(size: number, lo = 20000, hi = 32000, host = LOOPBACK): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = lo + Math.floor(Math.random() * ((hi - lo - 300) / 10)) * 10;
    const ports = Array.from({ length: size }, (_v, i) => memberPorts(base, i + 1)).flatMap((p) => [
      p.peer,
      p.client,
      p.http,
    ]);
    if ((await busyPorts(host, ports)).length === 0) return base;
  }
  throw new Error(`no free base port in [${lo}, ${hi})`);
}

/**
 * `n` distinct ports that nothing listens on right now, drawn at random from [lo, hi): by default
 * below the Linux ephemeral range (32768), like `freeBasePort`. Asking the OS for port 0 would hand
 * out ports from that range, where any outgoing connection (a client's, a peer's) can take the
 * port between this call and the member binding it: on a busy machine that made a test member
 * fail to start now and then.
 */
export async function freePorts(n: number, host = LOOPBACK, lo = 20000, hi = 32000): Promise<number[]> {
  const picked = new Set<number>();
  for (let attempt = 0; picked.size < n && attempt < 100 * n; attempt++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (!picked.has(port) && (await portFree(host, port))) picked.add(port);
  }
  if (picked.size < n) throw new Error(`no ${n} free ports in [${lo}, ${hi}) on ${host}`);
  return [...picked];
}
