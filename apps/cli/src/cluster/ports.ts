import { createServer } from 'node:net';

/** Members listen on loopback only: a local cluster is a development tool. */
export const CLUSTER_HOST = '127.0.0.1';
export const DEFAULT_BASE_PORT = 7100;
export const MAX_MEMBERS = 9;

export interface MemberPorts {
  readonly peer: number;
  readonly client: number;
  readonly http: number;
}

/**
 * The port scheme, from a base port B and the member's 1-based index i: peer B+i, client B+100+i,
 * HTTP B+200+i. With the default B=7100, n1 uses 7101, 7201 and 7301.
 */
export function memberPorts(basePort: number, index: number): MemberPorts {
  return { peer: basePort + index, client: basePort + 100 + index, http: basePort + 200 + index };
}

/** Why a base port cannot serve `size` members, or null if it can. */
export function basePortProblem(basePort: number, size: number): string | null {
  if (!Number.isInteger(basePort) || basePort < 1024)
    return `--base-port must be an integer of at least 1024`;
  const highest = memberPorts(basePort, size).http;
  if (highest > 65535)
    return `--base-port ${basePort} is too high: member n${size} would need port ${highest}`;
  return null;
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
