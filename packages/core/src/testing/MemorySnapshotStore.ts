import { ErrorCode, KeelError } from '../raft/errors.js';
import type { SnapshotMeta } from '../raft/types.js';
import type { SnapshotSink, SnapshotStore, StoredSnapshot } from '../runtime/interfaces.js';
import type { SnapshotChunks } from '../runtime/snapshotBytes.js';

export interface MemorySnapshotStoreOptions {
  /**
   * Completes a save later (e.g. after a simulated fsync delay in virtual time). A save that has
   * not completed when `crash()` is called is lost. Default: saves complete at once.
   */
  readonly schedule?: (fn: () => void) => void;
  /** The snapshot a recovered store starts with. */
  readonly initial?: StoredSnapshot | null;
}

/**
 * The in-memory twin of a snapshot directory, for tests and the simulator. A save becomes the
 * latest snapshot only when it completes (atomic: a crash before that leaves the previous one);
 * a save older than the latest is discarded. `crash()` returns what survives a power loss.
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #schedule: ((fn: () => void) => void) | undefined;
  #latest: StoredSnapshot | null;
  #dead = false;
  #failNext = false;
  /** Saves completed (local and received). */
  saves = 0;

  constructor(options: MemorySnapshotStoreOptions = {}) {
    this.#schedule = options.schedule;
    this.#latest = options.initial ?? null;
  }

  load(): StoredSnapshot | null {
    return this.#latest;
  }

  save(meta: SnapshotMeta, chunks: SnapshotChunks, done: (err: Error | null) => void): void {
    this.#complete({ meta, chunks: chunks.map((c) => c.slice()) }, done);
  }

  receive(meta: SnapshotMeta, total: number): SnapshotSink {
    const chunks: Uint8Array[] = [];
    let received = 0;
    let state: 'open' | 'finished' | 'aborted' = 'open';
    return {
      write: (offset, data) => {
        if (state !== 'open' || offset !== received || offset + data.length > total) {
          throw new KeelError(
            ErrorCode.InvalidArgument,
            `snapshot chunk at ${offset} (${data.length} bytes) does not follow ${received} of ${total}`,
          );
        }
        chunks.push(data); // ours to keep (SnapshotSink.write)
        received += data.length;
      },
      finish: (done) => {
        if (state !== 'open' || received !== total) {
          throw new KeelError(
            ErrorCode.InvalidArgument,
            `snapshot finished with ${received} of ${total} bytes`,
          );
        }
        state = 'finished';
        this.#complete({ meta, chunks }, done);
      },
      abort: () => {
        state = 'aborted';
      },
    };
  }

  /** Test hook: the next save (or received snapshot) fails, as a failed fsync would. */
  failNextSave(): void {
    this.#failNext = true;
  }

  /** A new store holding what survives a power loss now: the latest completed save. */
  crash(): MemorySnapshotStore {
    this.#dead = true;
    return new MemorySnapshotStore({
      ...(this.#schedule !== undefined ? { schedule: this.#schedule } : {}),
      initial: this.#latest,
    });
  }

  #complete(snap: StoredSnapshot, done: (err: Error | null) => void): void {
    const fail = this.#failNext;
    this.#failNext = false;
    const finish = (): void => {
      if (this.#dead) return; // the power went out first: the save never completed
      if (fail) {
        done(new KeelError(ErrorCode.StorageFailed, 'simulated snapshot save failure (failNextSave)'));
        return;
      }
      // Atomic replace (write a temporary file, fsync, rename); never go back to an older one.
      if (this.#latest === null || snap.meta.index > this.#latest.meta.index) this.#latest = snap;
      this.saves++;
      done(null);
    };
    if (this.#schedule !== undefined) this.#schedule(finish);
    else finish();
  }
}
