/**
 * The client side of watches (`KvClient.watch`): an async iterator of event batches that rides out
 * member failures. It is pull-based: the next poll is sent only when the caller asks for the next
 * batch, so a caller that stops reading costs the member no more than the watcher's bounded
 * backlog (past it, the member ends the watch as `slow-watcher`).
 *
 * Exactly once, in order, no gap: the iterator remembers `next`, the first revision it has not
 * delivered. Every poll names it (a member whose answer was lost answers again from there), and
 * after a member stops answering, the watch is created again on another member from `next`. Events
 * before `next` are dropped if a member ever sends them. A member that has not applied up to
 * `next` yet simply holds the poll until it has.
 *
 * Like KvClient.ts, this file is an I/O edge: it reads the clock and sets timers.
 */
import { KvClientError, KvClientErrorCode } from './KvClientError.js';
import { decodeResponse } from './protocol.js';
import { type WatchEvent, type WatchRange, watchTag } from './watchEvents.js';
import { decodeWatchReply, encodeWatchRequest, isWatchReply, type WatchReply } from './watchProtocol.js';

export interface WatchOptions {
  /** Watch every key starting with the given bytes (default: exactly that key). */
  readonly prefix?: boolean;
  /** The first revision to deliver (default: the next revision of the first member reached). */
  readonly fromRevision?: number;
  /** Deliver each event's previous key-value (`prev`). */
  readonly prevValue?: boolean;
  /** Ends the iteration (it returns; no error) and cancels the watch on the member. */
  readonly signal?: AbortSignal;
  /**
   * How long a member holds a poll with nothing to deliver before it answers with its progress
   * (the heartbeat that tells a quiet watch from a dead member). Default 1000 ms.
   */
  readonly progressMs?: number;
  /** Also yield empty batches carrying progress (`events` empty, `revision` advanced). */
  readonly progress?: boolean;
}

/** Events delivered together, in revision order. */
export interface WatchBatch {
  readonly events: readonly WatchEvent[];
  /** Every event of the watch up to this revision has been delivered (this batch or before). */
  readonly revision: number;
  /** The endpoint that served it. */
  readonly endpoint: string;
}

/** What the watch needs from the client: its endpoints and one request to one of them. */
export interface WatchLink {
  readonly endpoints: readonly string[];
  /** Give up when no member served the watch for this long (ms). */
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly closed: () => boolean;
  readonly request: (target: number, payload: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;
  readonly pause: (failures: number) => number;
}

const DEFAULT_PROGRESS_MS = 1000;
const textEncoder = new TextEncoder();

type Answer =
  | { readonly ok: true; readonly reply: WatchReply }
  | { readonly ok: false; readonly problem: string };

async function ask(link: WatchLink, target: number, payload: Uint8Array, timeoutMs: number): Promise<Answer> {
  try {
    const bytes = await link.request(target, payload, timeoutMs);
    if (isWatchReply(bytes)) return { ok: true, reply: decodeWatchReply(bytes) };
    const r = decodeResponse(bytes);
    return { ok: false, problem: r.kind === 'error' ? `${r.code}: ${r.message}` : 'an unexpected KV result' };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The watch iterator behind `KvClient.watch`. */
export async function* watchStream(
  link: WatchLink,
  keyOrPrefix: string | Uint8Array,
  options: WatchOptions = {},
): AsyncGenerator<WatchBatch, void, undefined> {
  const bytes = typeof keyOrPrefix === 'string' ? textEncoder.encode(keyOrPrefix) : keyOrPrefix;
  const range: WatchRange = options.prefix === true ? { prefix: bytes } : { key: bytes };
  if (!options.prefix && bytes.length === 0) {
    throw new KvClientError(KvClientErrorCode.BadRequest, 'watch needs a key (or prefix: true)');
  }
  const from = options.fromRevision;
  if (from !== undefined && !(Number.isSafeInteger(from) && from >= 1)) {
    throw new KvClientError(
      KvClientErrorCode.BadRequest,
      `fromRevision must be a positive integer, got ${from}`,
    );
  }
  const progressMs = options.progressMs ?? DEFAULT_PROGRESS_MS;
  const tag = watchTag(range, options.prevValue === true);
  const signal = options.signal;
  const n = link.endpoints.length;
  // Watchers spread over the members; each resumes on the next one.
  let target = Math.floor(Math.random() * n);
  let next: number | undefined = from;
  let failures = 0;
  let compacted = 0;
  let lastServed = performance.now();
  let lastProblem = '';
  let open: { target: number; id: number } | null = null;
  const aborted = (): boolean => signal?.aborted === true || link.closed();
  try {
    while (!aborted()) {
      if (performance.now() - lastServed > link.timeoutMs) {
        throw new KvClientError(
          KvClientErrorCode.Unavailable,
          `no member served the watch for ${link.timeoutMs} ms (last problem: ${lastProblem})`,
        );
      }
      if (failures > 0) await sleep(link.pause(failures), signal);
      if (aborted()) return;
      const create = encodeWatchRequest(
        next === undefined
          ? { op: 'create', range, prevValue: options.prevValue === true }
          : { op: 'create', range, prevValue: options.prevValue === true, from: next },
      ).slice();
      const created = await ask(link, target, create, link.attemptTimeoutMs);
      if (!created.ok || created.reply.kind !== 'created') {
        if (created.ok && created.reply.kind === 'ended' && created.reply.reason === 'compacted') {
          // This member's window starts later; another may still hold the revision.
          if (++compacted >= n) {
            throw new KvClientError(KvClientErrorCode.Compacted, created.reply.message, {
              oldestRevision: created.reply.oldest,
            });
          }
        }
        lastProblem = created.ok ? `${created.reply.kind}` : created.problem;
        failures++;
        target = (target + 1) % n;
        continue;
      }
      open = { target, id: created.reply.id };
      next ??= created.reply.revision + 1;
      failures = 0;
      compacted = 0;
      lastServed = performance.now();
      // Poll until the member stops serving this watch.
      for (;;) {
        if (aborted()) return;
        const poll = encodeWatchRequest({
          op: 'poll',
          id: open.id,
          from: next,
          waitMs: progressMs,
          tag,
        }).slice();
        const answer = await ask(link, target, poll, progressMs + link.attemptTimeoutMs);
        if (!answer.ok) {
          lastProblem = answer.problem;
          break;
        }
        const reply = answer.reply;
        if (reply.kind === 'events' || reply.kind === 'idle') {
          lastServed = performance.now();
          const fresh = reply.kind === 'events' ? reply.events.filter((e) => e.kv.modRevision >= next!) : [];
          const revision = Math.max(next - 1, reply.revision);
          next = revision + 1;
          if (fresh.length > 0 || options.progress === true) {
            yield { events: fresh, revision, endpoint: link.endpoints[target]! };
          }
          continue;
        }
        if (reply.kind !== 'ended') {
          lastProblem = `unexpected ${reply.kind} reply`;
          break;
        }
        open = null;
        if (reply.reason === 'cancelled') return;
        if (reply.reason === 'slow-watcher')
          throw new KvClientError(KvClientErrorCode.SlowWatcher, reply.message);
        if (reply.reason === 'compacted') {
          throw new KvClientError(KvClientErrorCode.Compacted, reply.message, {
            oldestRevision: reply.oldest,
          });
        }
        // evicted, restored, unknown: this member cannot go on; another can, from `next`.
        lastProblem = `${reply.reason}: ${reply.message}`;
        break;
      }
      if (open !== null) cancel(link, open);
      open = null;
      failures++;
      target = (target + 1) % n;
    }
  } finally {
    if (open !== null) cancel(link, open);
  }
}

/** Best effort: a lost cancel leaves a watcher that its member's bounds reclaim. */
function cancel(link: WatchLink, open: { target: number; id: number }): void {
  const payload = encodeWatchRequest({ op: 'cancel', id: open.id }).slice();
  void link.request(open.target, payload, link.attemptTimeoutMs).catch(() => undefined);
}
