import { type ConfState, describeId, isValidMemberId, type NodeId } from '@keel/core';

/**
 * A snapshot file's configuration as JSON: `{"voters":[...],"learners":[...],"addresses":{...}}`.
 * `addresses` is a JSON object on disk (the format of version 1 files) but a Map in memory: the
 * object is written from a null-prototype record and read back through Object.entries, checking
 * every id, so no id in a file can reach a prototype (issue #22).
 */
export function encodeConfJson(conf: ConfState): string {
  // keel-lint-allow-object-map: null-prototype, handed to JSON.stringify at once
  const addresses = Object.create(null) as { [id: NodeId]: string };
  for (const [id, address] of conf.addresses) addresses[id] = address;
  return JSON.stringify({ voters: conf.voters, learners: conf.learners, addresses });
}

/** The configuration in `text`, or a string saying what is wrong with it. */
export function decodeConfJson(text: string): ConfState | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'configuration is not valid JSON';
  }
  if (typeof raw !== 'object' || raw === null) return 'configuration is not an object';
  const { voters, learners, addresses } = raw as {
    voters?: unknown;
    learners?: unknown;
    addresses?: unknown;
  };
  if (
    !Array.isArray(voters) ||
    !Array.isArray(learners) ||
    typeof addresses !== 'object' ||
    addresses === null
  ) {
    return 'configuration lacks voters, learners or addresses';
  }
  const members = new Set<NodeId>();
  for (const id of [...voters, ...learners] as unknown[]) {
    if (!isValidMemberId(id))
      return `configuration lists member ${describeId(id)}, which is no valid member id`;
    if (members.has(id)) return `configuration lists member ${describeId(id)} twice`;
    members.add(id);
  }
  const map = new Map<NodeId, string>();
  for (const [id, address] of Object.entries(addresses)) {
    if (!members.has(id)) return `configuration has an address for ${describeId(id)}, which is no member`;
    if (typeof address !== 'string') return `configuration has a non-string address for ${describeId(id)}`;
    map.set(id, address);
  }
  return { voters: voters as NodeId[], learners: learners as NodeId[], addresses: map };
}
