import { LOOPBACK, memberPorts } from '@keel/ops';

/**
 * Members listen on loopback only: a local cluster is a development tool. The port scheme
 * (`memberPorts`: peer B+i, client B+100+i, HTTP B+200+i) is @keel/ops's.
 */
export const CLUSTER_HOST = LOOPBACK;
export const DEFAULT_BASE_PORT = 7100;
export const MAX_MEMBERS = 9;

/** Why a base port cannot serve `size` members, or null if it can. */
export function basePortProblem(basePort: number, size: number): string | null {
  if (!Number.isInteger(basePort) || basePort < 1024)
    return `--base-port must be an integer of at least 1024`;
  const highest = memberPorts(basePort, size).http;
  if (highest > 65535)
    return `--base-port ${basePort} is too high: member n${size} would need port ${highest}`;
  return null;
}
