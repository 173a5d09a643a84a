import { KvClientError, KvClientErrorCode } from '../KvClientError.js';
import type { KeyValue } from '../results.js';
import type { SessionOptions } from './LeaseSession.js';
import { holdInLine, type LockHandle } from './Lock.js';
import { firstInLine } from './queue.js';
import { type Bytes, checkName, type RecipeClient, sameBytes, toBytes } from './RecipeClient.js';

const decoder = new TextDecoder();

/** Who leads an election, as the store says now. */
export interface ElectionLeader {
  /** The leader's key (`<name>/<lease in hex>`). */
  readonly key: string;
  /** What the leader proclaimed (its campaign value, or the latest `proclaim`). */
  readonly value: Uint8Array;
  /** The create revision of the leader's key: larger for every later leader (a fencing token). */
  readonly revision: number;
}

/** Leadership won by `campaign`. Resign with `resign()`, or let `await using` do it. */
export interface Leadership extends AsyncDisposable {
  readonly key: string;
  readonly revision: number;
  readonly lease: number;
  /** Aborts when leadership is lost without resigning (the lease expired or was revoked). */
  readonly signal: AbortSignal;
  /** Publishes a new value while still leader; rejects (`KEEL_CLIENT_LEASE_LOST`) if no longer leader. */
  proclaim(value: Bytes): Promise<void>;
  /** Steps down: the next candidate in line becomes leader. Safe to call twice. */
  resign(): Promise<void>;
}

export interface CampaignOptions {
  /** Gives up campaigning: `campaign` rejects with the signal's reason and leaves the line. */
  readonly signal?: AbortSignal;
}

export interface ObserveOptions {
  /** Ends the iteration. */
  readonly signal?: AbortSignal;
}

/**
 * Leader election among processes (etcd's `concurrency.Election`): candidates queue like lock
 * contenders, the first in line leads and publishes a value that observers follow.
 *
 * ```ts
 * const election = new Election(client, 'services/scheduler', { ttlSeconds: 5 });
 * const leadership = await election.campaign('worker-1');   // waits until it leads
 * for await (const leader of election.observe()) console.log(leader?.value);
 * ```
 */
export class Election {
  private readonly prefix: Uint8Array;

  constructor(
    private readonly client: RecipeClient,
    readonly name: string,
    private readonly options: SessionOptions = {},
  ) {
    this.prefix = toBytes(`${checkName('election', name)}/`);
  }

  /** Joins the line with `value` and resolves once this candidate leads. */
  async campaign(value: Bytes, options: CampaignOptions = {}): Promise<Leadership> {
    const held = await holdInLine(this.client, this.prefix, toBytes(value), this.options, options.signal);
    return leadership(this.client, held);
  }

  /** The current leader, or null when no one campaigns. */
  async leader(): Promise<ElectionLeader | null> {
    const { kv } = await firstInLine(this.client, this.prefix);
    return kv === null ? null : leaderOf(kv);
  }

  /**
   * The leader now, then every change of leader or of its value (null while no one leads), until
   * `signal` aborts. Values are the store's at some point after each change; a change undone before
   * it is read may be skipped, never reported out of order.
   */
  async *observe(options: ObserveOptions = {}): AsyncGenerator<ElectionLeader | null, void, undefined> {
    const first = await firstInLine(this.client, this.prefix);
    let last = first.kv === null ? null : leaderOf(first.kv);
    yield last;
    const watch = this.client.watch(this.prefix, {
      prefix: true,
      fromRevision: first.revision + 1,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    for await (const batch of watch) {
      if (batch.events.length === 0) continue;
      const now = await firstInLine(this.client, this.prefix);
      const next = now.kv === null ? null : leaderOf(now.kv);
      if (!sameLeader(last, next)) {
        last = next;
        yield next;
      }
    }
  }
}

function leaderOf(kv: KeyValue): ElectionLeader {
  return { key: decoder.decode(kv.key), value: kv.value, revision: kv.createRevision };
}

function sameLeader(a: ElectionLeader | null, b: ElectionLeader | null): boolean {
  if (a === null || b === null) return a === b;
  return a.key === b.key && a.revision === b.revision && sameBytes(a.value, b.value);
}

function leadership(client: RecipeClient, held: LockHandle): Leadership {
  const key = toBytes(held.key);
  return {
    key: held.key,
    revision: held.revision,
    lease: held.lease,
    signal: held.signal,
    async proclaim(value: Bytes): Promise<void> {
      const r = await client.txn({
        compare: [{ key, createRevision: held.revision }],
        success: [{ put: key, value: toBytes(value), lease: held.lease }],
      });
      if (!r.succeeded) {
        throw new KvClientError(
          KvClientErrorCode.LeaseLost,
          `no longer the leader of this election (${held.key} is gone)`,
        );
      }
    },
    resign: () => held.release(),
    [Symbol.asyncDispose]: () => held.release(),
  };
}
