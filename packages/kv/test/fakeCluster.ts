import { ChannelErrorCode, type ClientChannel, type NodeId } from '@keel/core';
import {
  decodeRequest,
  encodeResponse,
  isReadCommand,
  isWriteCommand,
  KvClientError,
  type KvRequest,
  type KvResponse,
  type KvStateMachineOptions,
} from '../src/index.js';
import { Harness } from './helpers.js';

/**
 * An in-memory stand-in for a cluster behind `ClientChannel`s: one real state machine (what the
 * leader applies), members that behave like apps/node's (followers forward writes, or answer
 * `not-leader` with a hint when `forward` is off), and knobs for the failures a client must ride
 * out: silent members, scripted error answers, and replies lost after the write was applied.
 */
export interface FakeMember {
  readonly id: NodeId;
  readonly endpoint: string;
  /**
   * serve: answers; silent: never answers (partitioned, paused); stopped: answers `stopped`;
   * down: its channel reports `down` and fails requests at once as not sent (process killed).
   */
  mode: 'serve' | 'silent' | 'stopped' | 'down';
  /** A follower relays writes to the leader (apps/node does); off: `not-leader` + hint. */
  forward: boolean;
  /** Answers to give before anything else, one per request. */
  readonly script: KvResponse[];
  /** As leader: apply the next n writes, then lose their replies. */
  dropRepliesAfterApply: number;
}

export interface Received {
  readonly endpoint: string;
  readonly request: KvRequest;
  /** When it arrived (performance.now()). */
  readonly at: number;
}

const never = new Promise<never>(() => undefined);

export class FakeCluster {
  readonly store: Harness;
  leader: NodeId | null;
  readonly members = new Map<string, FakeMember>();
  readonly received: Received[] = [];
  readonly opened: string[] = [];
  closedChannels = 0;
  /** Requests refused by a `down` member's channel (never sent). */
  notSent = 0;

  constructor(ids: readonly NodeId[], leader: NodeId | null, options: KvStateMachineOptions = {}) {
    this.store = new Harness(options);
    this.leader = leader;
    for (const [i, id] of ids.entries()) {
      const endpoint = `127.0.0.1:${7201 + i}`;
      this.members.set(endpoint, {
        id,
        endpoint,
        mode: 'serve',
        forward: true,
        script: [],
        dropRepliesAfterApply: 0,
      });
    }
  }

  get endpoints(): string[] {
    return [...this.members.keys()];
  }

  /** id → endpoint, the `members` option of KvClient. */
  get directory(): Map<NodeId, string> {
    return new Map([...this.members.values()].map((m) => [m.id, m.endpoint]));
  }

  member(id: NodeId): FakeMember {
    const m = [...this.members.values()].find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  /** Requests of one command type, in arrival order. */
  requests(type: string): Received[] {
    return this.received.filter((r) => r.request.command.type === type);
  }

  readonly connect = (address: string): ClientChannel => {
    this.opened.push(address);
    let closed = false;
    return {
      state: () => (this.members.get(address)?.mode === 'down' ? 'down' : 'up'),
      request: (payload, options) => {
        if (closed) return Promise.reject(new Error('connection closed'));
        if (this.members.get(address)?.mode === 'down') {
          this.notSent++;
          return Promise.reject(
            Object.assign(new Error('not sent: member down'), { code: ChannelErrorCode.NotSent }),
          );
        }
        const timeoutMs = options?.timeoutMs ?? 5000;
        return new Promise<Uint8Array>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
          this.handle(address, payload.slice()).then(
            (reply) => {
              clearTimeout(timer);
              resolve(reply);
            },
            (err: Error) => {
              clearTimeout(timer);
              reject(err);
            },
          );
        });
      },
      close: async () => {
        closed = true;
        this.closedChannels++;
      },
    };
  };

  private async handle(address: string, payload: Uint8Array): Promise<Uint8Array> {
    await Promise.resolve(); // answers arrive asynchronously, as over a socket
    const m = this.members.get(address);
    if (m === undefined) return never;
    let request: KvRequest;
    try {
      request = decodeRequest(payload);
    } catch (err) {
      return encode({
        kind: 'error',
        code: 'bad-request',
        message: (err as Error).message,
        leaderHint: null,
      });
    }
    this.received.push({ endpoint: address, request, at: performance.now() });
    if (m.mode === 'silent') return never;
    const scripted = m.script.shift();
    if (scripted !== undefined) return encode(scripted);
    if (m.mode === 'stopped') {
      return encode({ kind: 'error', code: 'stopped', message: 'shutting down', leaderHint: null });
    }
    return this.serve(m, request);
  }

  private serve(m: FakeMember, request: KvRequest): Promise<Uint8Array> | Uint8Array {
    const cmd = request.command;
    if (isReadCommand(cmd)) {
      if (request.consistency === 'lease') {
        return encode({
          kind: 'error',
          code: 'unsupported',
          message: 'lease reads are off',
          leaderHint: null,
        });
      }
      if (request.consistency === 'linearizable' && this.leader === null) {
        return encode({ kind: 'error', code: 'not-leader', message: 'no leader', leaderHint: null });
      }
      return encode({ kind: 'result', result: this.store.sm.read(cmd) });
    }
    if (m.id !== this.leader) {
      if (this.leader !== null && m.forward) {
        const leader = this.member(this.leader);
        if (leader.mode !== 'serve') {
          return encode({
            kind: 'error',
            code: 'timeout',
            message: `forwarding to ${leader.id} failed`,
            leaderHint: leader.id,
          });
        }
        return this.serve(leader, request);
      }
      return encode({
        kind: 'error',
        code: 'not-leader',
        message: 'not the leader',
        leaderHint: this.leader,
      });
    }
    if (cmd.type === 'leaseKeepAlive') {
      // The leader's answer (its deadlines are not modelled here: the lease lives until revoked).
      const lease = this.store.sm.lease(cmd.id);
      return encode({
        kind: 'result',
        result:
          lease === null
            ? { ok: false, code: 'lease-not-found', message: `lease ${cmd.id} does not exist` }
            : { ok: true, type: 'leaseKeepAlive', id: cmd.id, ttlSeconds: lease.ttlSeconds },
      });
    }
    if (!isWriteCommand(cmd) && cmd.type !== 'registerSession' && cmd.type !== 'closeSession') {
      return encode({ kind: 'error', code: 'unsupported', message: cmd.type, leaderHint: null });
    }
    const result = this.store.apply(cmd);
    if (m.dropRepliesAfterApply > 0) {
      m.dropRepliesAfterApply--;
      return never;
    }
    return encode({ kind: 'result', result });
  }
}

function encode(res: KvResponse): Uint8Array {
  return encodeResponse(res).slice();
}

/** The KvClientError `p` rejects with (anything else fails the test). */
export async function failure(p: Promise<unknown>): Promise<KvClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KvClientError) return err;
    throw err;
  }
  throw new Error('expected a KvClientError');
}
