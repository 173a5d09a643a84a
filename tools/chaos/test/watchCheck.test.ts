import type { Operation } from '@keel/checker';
import { describe, expect, it } from 'vitest';
import { checkWatchStream, type WatchedEvent } from '../src/watchCheck.js';
import { COUNTER_KEY } from '../src/workload.js';

// The watch check, fed hand-made streams: it passes the stream of a correct store and fails each
// way a watch can break its promise (planted gap, duplicate, reordering, phantom or missing write).

let id = 0;
function put(key: string, value: string, status: 'ok' | 'unknown' | 'fail' = 'ok'): Operation {
  return {
    id: ++id,
    process: 1,
    key,
    op: { kind: 'put', value },
    invoke: id,
    complete: id,
    outcome: status === 'ok' ? { status: 'ok' } : { status },
  } as Operation;
}

function finalRead(key: string, result: string | null): Operation {
  return {
    id: ++id,
    process: 'final',
    key,
    op: { kind: 'get' },
    invoke: id,
    complete: id,
    outcome: { status: 'ok', result },
  };
}

/** A correct stream of puts, as a store would number them. */
function stream(writes: readonly [string, string][]): WatchedEvent[] {
  const versions = new Map<string, { v: number; c: number }>();
  return writes.map(([key, value], i) => {
    const revision = i + 1;
    const k = versions.get(key) ?? { v: 0, c: revision };
    versions.set(key, { v: k.v + 1, c: k.c });
    return { revision, type: 'put', key, value, version: k.v + 1, createRevision: k.c };
  });
}

const history = [put('r0', 'a'), put('r1', 'b'), put('r0', 'c'), put('r1', 'x', 'fail')];
const writes: [string, string][] = [
  ['r0', 'a'],
  ['r1', 'b'],
  [COUNTER_KEY, '1'],
  ['r0', 'c'],
  [COUNTER_KEY, '2'],
];
const finals = new Map([
  ['r0', finalRead('r0', 'c')],
  ['r1', finalRead('r1', 'b')],
]);

describe('the chaos watch check', () => {
  it('passes the stream of a correct store', () => {
    const r = checkWatchStream(stream(writes), 1, 5, history, finals);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.detail).toBe(
      '5 events, revisions 1..5, each once and in order; moved between members 0 time(s)',
    );
  });

  it("takes a transaction's writes at one revision, one event per key, each once", () => {
    const txn: Operation = {
      id: ++id,
      process: 2,
      op: {
        kind: 'txn',
        compare: [],
        success: [
          { kind: 'put', key: 'r0', value: 't' },
          { kind: 'put', key: 'r1', value: 't' },
        ],
        failure: [],
      },
      invoke: id,
      complete: id,
      outcome: { status: 'ok', result: { succeeded: true, gets: [] } },
    };
    const h = [put('r0', 'a'), txn];
    const ends = new Map([
      ['r0', finalRead('r0', 't')],
      ['r1', finalRead('r1', 't')],
    ]);
    const events: WatchedEvent[] = [
      { revision: 1, type: 'put', key: 'r0', value: 'a', version: 1, createRevision: 1 },
      { revision: 2, type: 'put', key: 'r0', value: 't', version: 2, createRevision: 1 },
      { revision: 2, type: 'put', key: 'r1', value: 't', version: 1, createRevision: 2 },
    ];
    expect(checkWatchStream(events, 1, 2, h, ends).problems).toEqual([]);
    expect(checkWatchStream([...events, events[2]!], 1, 2, h, ends).detail).toMatch(
      /revision 2 delivered again \(key r1\)/,
    );
    expect(checkWatchStream(events.slice(0, 2), 1, 2, h, ends).problems.join('\n')).toMatch(
      /r1 = "t"\) seen 0 time/,
    );
  });

  it('fails a gap, a duplicate, a reordering and a stream that stops short', () => {
    const s = stream(writes);
    expect(checkWatchStream([s[0]!, s[2]!, s[3]!, s[4]!], 1, 5, history, finals).detail).toMatch(
      /revisions 2..2 missing/,
    );
    expect(checkWatchStream([s[0]!, s[1]!, s[1]!, ...s.slice(2)], 1, 5, history, finals).detail).toMatch(
      /revision 2 delivered again/,
    );
    expect(checkWatchStream([s[1]!, s[0]!, ...s.slice(2)], 1, 5, history, finals).ok).toBe(false);
    expect(checkWatchStream(s.slice(0, 4), 1, 5, history, finals).detail).toMatch(/stopped at revision 4/);
  });

  it('fails a value nobody wrote (or whose write failed), a lost acknowledged write and a wrong counter', () => {
    const phantom = stream([...writes.slice(0, 4), ['r1', 'x']]);
    expect(checkWatchStream(phantom, 1, 5, history, finals).problems.join('\n')).toMatch(
      /"x" was never written/,
    );
    const lost = stream(writes.filter(([, v]) => v !== 'c'));
    expect(checkWatchStream(lost, 1, 4, history, finals).problems.join('\n')).toMatch(
      /r0 = "c"\) seen 0 time/,
    );
    const counter = stream([...writes.slice(0, 4), [COUNTER_KEY, '3']]);
    expect(checkWatchStream(counter, 1, 5, history, finals).detail).toMatch(/counter@5 is 3, expected 2/);
  });

  it('fails wrong versions, and a final read the stream does not end at', () => {
    const s = stream(writes);
    const bad = s.map((e) => (e.revision === 4 ? { ...e, version: 1 } : e));
    expect(checkWatchStream(bad, 1, 5, history, finals).detail).toMatch(/r0@4: version 1/);
    const other = new Map([['r0', finalRead('r0', 'a')]]);
    expect(checkWatchStream(s, 1, 5, history, other).detail).toMatch(
      /final read is "a", the watch ends at "c"/,
    );
  });

  it('reports a watch that ended for good', () => {
    expect(
      checkWatchStream(stream(writes), 1, 5, history, finals, 'KEEL_CLIENT_COMPACTED: gone').detail,
    ).toMatch(/the watch ended: KEEL_CLIENT_COMPACTED/);
  });
});
