import type { ConfState, NodeId } from '@keel/core';
import type { Logger } from 'pino';
import { hostPort } from './addresses.js';
import { decodeMemberAddresses, type MemberAddresses } from './membership.js';
import type { ResolvedOptions } from './options.js';

/**
 * Every member's addresses as this member knows them: from the options until the first
 * configuration, then from the configuration (whose addresses replicate with Config entries and
 * snapshots), keeping what the options said where the configuration carries none.
 */
export class AddressBook {
  private readonly book = new Map<NodeId, MemberAddresses>();
  private conf: ConfState = { voters: [], learners: [], addresses: new Map() };

  constructor(bootstrap: ReadonlyMap<NodeId, MemberAddresses>) {
    for (const [id, a] of bootstrap) this.book.set(id, a);
  }

  get(id: NodeId): MemberAddresses | undefined {
    return this.book.get(id);
  }

  get voters(): readonly NodeId[] {
    return this.conf.voters;
  }

  /** Other members of the configuration, voters first. */
  others(self: NodeId): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners].filter((id) => id !== self);
  }

  /** The configuration changed (or was first known): refresh the addresses and say so. */
  onConf(conf: ConfState, log: Logger, term: number): void {
    const before = this.conf;
    this.conf = conf;
    for (const [id, text] of conf.addresses) {
      const a = decodeMemberAddresses(text);
      const known = this.book.get(id);
      // Bootstrap members may carry no addresses in the configuration: keep what the flags said.
      this.book.set(id, {
        peer: a.peer || known?.peer || '',
        client: a.client || known?.client || '',
        http: a.http || known?.http || '',
      });
    }
    const same = (x: readonly string[], y: readonly string[]) =>
      x.length === y.length && x.every((v, i) => v === y[i]);
    if (same(before.voters, conf.voters) && same(before.learners, conf.learners)) return;
    log.info(
      { voters: conf.voters, learners: conf.learners, term },
      `configuration: voters ${conf.voters.join(', ') || '(none yet)'}${conf.learners.length > 0 ? `; learners ${conf.learners.join(', ')}` : ''}`,
    );
  }
}

/** Each bootstrap member's addresses from the options (`peers`, `clients`; this member's `http`). */
export function bootstrapAddresses(config: ResolvedOptions): Map<NodeId, MemberAddresses> {
  const out = new Map<NodeId, MemberAddresses>();
  for (const p of config.peers) {
    const c = config.clients.find((x) => x.id === p.id);
    out.set(p.id, {
      peer: hostPort(p),
      client: c === undefined ? '' : hostPort(c),
      http: p.id === config.id && config.http !== null ? hostPort(config.http) : '',
    });
  }
  return out;
}
