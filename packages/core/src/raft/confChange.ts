import { isValidMemberId, MEMBER_ID_RULE } from './memberId.js';
import { type ConfChange, ConfChangeType, type ConfState, type NodeId } from './types.js';

/**
 * Single-server membership changes (dissertation §4.1): the pure rules, kept apart from the engine
 * so that they can be checked on a copy before anything is appended (as etcd's confchange package
 * does), and the byte format of a Config entry's payload (`encodeConfEntry`).
 */
export const CONF_CHANGE_VERSION = 1;

const TYPE_CODES: readonly ConfChangeType[] = [
  ConfChangeType.AddLearner,
  ConfChangeType.Promote,
  ConfChangeType.AddVoter,
  ConfChangeType.Remove,
];

const MAX_ADDRESS_BYTES = 0xffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const EMPTY_CONF: ConfState = Object.freeze({
  voters: Object.freeze([]) as readonly NodeId[],
  learners: Object.freeze([]) as readonly NodeId[],
  addresses: new Map<NodeId, string>() as ReadonlyMap<NodeId, string>,
});

/** A member's address in `addresses` ('' when it has none). */
export function addressOf(addresses: ReadonlyMap<NodeId, string>, id: NodeId): string {
  return addresses.get(id) ?? '';
}

/** A configuration from a list of voters (bootstrap), with optional addresses. */
export function confOf(
  voters: readonly NodeId[],
  learners: readonly NodeId[] = [],
  addresses: ReadonlyMap<NodeId, string> = EMPTY_CONF.addresses,
): ConfState {
  const a = new Map<NodeId, string>();
  for (const id of [...voters, ...learners]) a.set(id, addressOf(addresses, id));
  return { voters: [...voters].sort(), learners: [...learners].sort(), addresses: a };
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

export function sameConf(a: ConfState, b: ConfState): boolean {
  if (a === b) return true;
  if (a.voters.length !== b.voters.length || a.learners.length !== b.learners.length) return false;
  for (let i = 0; i < a.voters.length; i++) if (a.voters[i] !== b.voters[i]) return false;
  for (let i = 0; i < a.learners.length; i++) if (a.learners[i] !== b.learners[i]) return false;
  for (const id of [...a.voters, ...a.learners])
    if (addressOf(a.addresses, id) !== addressOf(b.addresses, id)) return false;
  return true;
}

/**
 * The configuration after `cc`, or a string saying why `cc` is invalid in `conf`. Pure; `conf` is
 * not modified. Voters and learners stay sorted, so equal configurations are equal arrays.
 */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState | string {
  const { id } = cc;
  if (!isValidMemberId(id)) return `member id ${JSON.stringify(id)} is invalid: must be ${MEMBER_ID_RULE}`;
  const voter = conf.voters.includes(id);
  const learner = conf.learners.includes(id);
  const addresses = new Map(conf.addresses);
  switch (cc.type) {
    case ConfChangeType.AddLearner:
    case ConfChangeType.AddVoter: {
      if (voter || learner) return `'${id}' is already a ${voter ? 'voter' : 'learner'}`;
      addresses.set(id, cc.address ?? '');
      return cc.type === ConfChangeType.AddLearner
        ? { voters: conf.voters, learners: [...conf.learners, id].sort(), addresses }
        : { voters: [...conf.voters, id].sort(), learners: conf.learners, addresses };
    }
    case ConfChangeType.Promote:
      if (!learner) return voter ? `'${id}' is already a voter` : `'${id}' is not a learner`;
      if (cc.address !== undefined && cc.address !== '') addresses.set(id, cc.address);
      return {
        voters: [...conf.voters, id].sort(),
        learners: conf.learners.filter((l) => l !== id),
        addresses,
      };
    case ConfChangeType.Remove:
      if (!voter && !learner) return `'${id}' is not a member`;
      if (voter && conf.voters.length === 1) return `'${id}' is the last voter`;
      addresses.delete(id);
      return {
        voters: conf.voters.filter((v) => v !== id),
        learners: conf.learners.filter((l) => l !== id),
        addresses,
      };
    default:
      return `unknown change type ${JSON.stringify((cc as { type: unknown }).type)}`;
  }
}

/**
 * A Config entry's payload: the change (for people and observers) and the configuration it makes
 * (authoritative). Carrying the whole configuration means a member that joins with an empty log
 * learns the full membership from the first Config entry it receives, though the bootstrap
 * configuration is in no log.
 */
export interface ConfEntry {
  readonly change: ConfChange;
  readonly conf: ConfState;
}

class Out {
  readonly bytes: number[] = [];
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    if (v > 0xffff) throw new RangeError(`${v} does not fit in 16 bits`);
    this.bytes.push(v >>> 8, v & 0xff);
  }
  id(id: string): void {
    if (!isValidMemberId(id))
      throw new RangeError(`member id ${JSON.stringify(id)} is invalid: must be ${MEMBER_ID_RULE}`);
    this.u8(id.length);
    for (let i = 0; i < id.length; i++) this.bytes.push(id.charCodeAt(i));
  }
  str(s: string): void {
    const b = encoder.encode(s);
    if (b.length > MAX_ADDRESS_BYTES) throw new RangeError('address longer than 65535 bytes');
    this.u16(b.length);
    for (const x of b) this.bytes.push(x);
  }
}

class In {
  at = 0;
  constructor(readonly d: Uint8Array) {}
  u8(): number {
    if (this.at >= this.d.length) throw new RangeError('truncated');
    return this.d[this.at++]!;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  id(): string {
    const n = this.u8();
    if (this.at + n > this.d.length) throw new RangeError('truncated');
    let id = '';
    for (let i = 0; i < n; i++) id += String.fromCharCode(this.d[this.at++]!);
    if (!isValidMemberId(id)) throw new RangeError('bad id');
    return id;
  }
  str(): string {
    const n = this.u16();
    if (this.at + n > this.d.length) throw new RangeError('truncated');
    const s = decoder.decode(this.d.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}

/**
 *   payload = version:u8 (1)  type:u8  id  address:str  voters:u16 (id address:str)*  learners:u16 (id address:str)*
 *   id      = length:u8 (1-64), ASCII, MEMBER_ID_PATTERN   str = length:u16 BE, UTF-8
 */
export function encodeConfEntry(change: ConfChange, conf: ConfState): Uint8Array {
  const code = TYPE_CODES.indexOf(change.type);
  if (code < 0) throw new RangeError(`unknown change type ${JSON.stringify(change.type)}`);
  const o = new Out();
  o.u8(CONF_CHANGE_VERSION);
  o.u8(code);
  o.id(change.id);
  o.str(change.address ?? '');
  for (const list of [conf.voters, conf.learners]) {
    o.u16(list.length);
    for (const id of list) {
      o.id(id);
      o.str(addressOf(conf.addresses, id));
    }
  }
  return Uint8Array.from(o.bytes);
}

/** Decodes a Config entry's payload; null when it is not one this build understands. */
export function decodeConfEntry(data: Uint8Array): ConfEntry | null {
  try {
    const r = new In(data);
    if (r.u8() !== CONF_CHANGE_VERSION) return null;
    const type = TYPE_CODES[r.u8()];
    if (type === undefined) return null;
    const id = r.id();
    const address = r.str();
    const lists: NodeId[][] = [[], []];
    const addresses = new Map<NodeId, string>();
    for (const list of lists) {
      const n = r.u16();
      for (let i = 0; i < n; i++) {
        const m = r.id();
        if (addresses.has(m)) return null;
        addresses.set(m, r.str());
        list.push(m);
      }
    }
    if (r.at !== data.length) return null;
    const change: ConfChange = address === '' ? { type, id } : { type, id, address };
    return { change, conf: { voters: lists[0]!, learners: lists[1]!, addresses } };
  } catch {
    return null;
  }
}
