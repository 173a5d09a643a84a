import { describe, expect, it } from 'vitest';
import { DecodeError, Reader, readSessions, Writer, writeSessions } from '../src/codec/index.js';
import { SessionErrorCode, SessionTable } from '../src/index.js';

/** A table whose results are strings, with a counter of executions. */
function table(limits = {}) {
  const t = new SessionTable<string>(limits);
  let runs = 0;
  const run = (result: string) => () => {
    runs++;
    return result;
  };
  return { t, run, runs: () => runs };
}

const writeText = (w: Writer, s: string) => w.utf8(s);
const readText = (r: Reader) => r.utf8(1024);

function roundTrip(t: SessionTable<string>, clock: number): SessionTable<string> {
  const w = new Writer();
  writeSessions(w, t.image(), writeText);
  const r = new Reader(w.finish().slice());
  const image = readSessions(r, clock, readText);
  r.done();
  return new SessionTable({ timeoutMs: t.timeoutMs, maxSessions: t.maxSessions }, image);
}

describe('SessionTable (§6.3: exactly-once commands)', () => {
  it('executes a sequence number once and answers its retry from the cache', () => {
    const { t, run, runs } = table();
    expect(t.register(5, 0)).toEqual({ ok: true, clientId: 5 });
    expect(t.execute(5, 1, 10, run('first'))).toBe('first');
    expect(t.execute(5, 1, 20, run('again'))).toBe('first');
    expect(runs()).toBe(1);
    expect(t.execute(5, 2, 30, run('second'))).toBe('second');
    expect(runs()).toBe(2);
  });

  it('refuses a sequence number below the last executed: its response is gone', () => {
    const { t, run, runs } = table();
    t.register(1, 0);
    t.execute(1, 3, 0, run('three'));
    expect(t.execute(1, 2, 0, run('two'))).toMatchObject({ ok: false, code: SessionErrorCode.StaleSequence });
    expect(runs()).toBe(1);
  });

  it('tells a never-issued id from an expired or closed one', () => {
    const { t, run } = table();
    t.register(4, 0);
    expect(t.execute(9, 1, 0, run('x'))).toMatchObject({ code: SessionErrorCode.UnknownSession });
    expect(t.close(4, 0)).toEqual({ ok: true });
    expect(t.execute(4, 1, 0, run('x'))).toMatchObject({ code: SessionErrorCode.SessionExpired });
    expect(t.execute(2, 1, 0, run('x'))).toMatchObject({ code: SessionErrorCode.SessionExpired });
  });

  it('refuses a registration whose id does not increase', () => {
    const { t } = table();
    t.register(7, 0);
    expect(t.register(7, 0)).toMatchObject({ ok: false, code: SessionErrorCode.InvalidCommand });
    expect(t.register(3, 0)).toMatchObject({ ok: false, code: SessionErrorCode.InvalidCommand });
    expect(t.size).toBe(1);
  });

  it('expires sessions idle for longer than the timeout, by the log clock passed in', () => {
    const { t, run } = table({ timeoutMs: 100 });
    t.register(1, 0);
    t.register(2, 0);
    t.keepAlive(2, 60);
    t.expire(100); // 1 was active at 0: exactly at the deadline, still alive
    expect(t.size).toBe(2);
    t.expire(101);
    expect(t.size).toBe(1);
    expect(t.execute(1, 1, 101, run('x'))).toMatchObject({ code: SessionErrorCode.SessionExpired });
    expect(t.execute(2, 1, 101, run('y'))).toBe('y');
  });

  it('evicts the least recently active session at the limit', () => {
    const { t, run } = table({ maxSessions: 2 });
    t.register(1, 0);
    t.register(2, 0);
    t.keepAlive(1, 1); // 2 is now the least recently active
    t.register(3, 2);
    expect(t.size).toBe(2);
    expect(t.execute(2, 1, 2, run('x'))).toMatchObject({ code: SessionErrorCode.SessionExpired });
    expect(t.execute(1, 1, 2, run('y'))).toBe('y');
  });

  it('survives a snapshot: same sessions, same cache, same expiry order', () => {
    const { t, run } = table({ timeoutMs: 50 });
    t.register(1, 0);
    t.register(2, 5);
    t.execute(2, 1, 10, run('two'));
    t.execute(1, 4, 20, run('one'));
    const copy = roundTrip(t, 20);
    expect(copy.image()).toEqual(t.image());
    expect(copy.execute(1, 4, 21, run('never'))).toBe('one');
    copy.expire(61); // 2 last active at 10: expired; 1 at 21: alive
    expect(copy.image().sessions.map((s) => s.clientId)).toEqual([1]);
  });

  it('an image is a copy: later commands do not change it', () => {
    const { t, run } = table();
    t.register(1, 0);
    const before = t.image();
    t.execute(1, 1, 5, run('x'));
    expect(before.sessions[0]).toEqual({ clientId: 1, lastSeq: 0, lastResult: null, lastActive: 0 });
  });

  it('rejects out-of-range limits', () => {
    expect(() => new SessionTable({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new SessionTable({ maxSessions: 1.5 })).toThrow(RangeError);
  });
});

describe('readSessions validates what a table relies on', () => {
  /** highestClientId 3, then the records given as [clientId, lastSeq, lastActive, result|null]. */
  const image = (records: Array<[number, number, number, string | null]>): Uint8Array => {
    const w = new Writer();
    w.varint(3);
    w.varint(records.length);
    for (const [id, seq, active, result] of records) {
      for (const n of [id, seq, active]) w.varint(n);
      w.u8(result === null ? 0 : 1);
      if (result !== null) w.utf8(result);
    }
    return w.finish().slice();
  };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['an id never issued', image([[4, 0, 0, null]]), /never issued/],
    ['a result without a command', image([[2, 0, 0, 'x']]), /disagree/],
    ['a command without a result', image([[2, 1, 0, null]]), /disagree/],
    ['activity after the clock', image([[2, 0, 99, null]]), /out of order/],
    [
      'activity out of order',
      image([
        [1, 0, 5, null],
        [2, 0, 4, null],
      ]),
      /out of order/,
    ],
    [
      'the same id twice',
      image([
        [2, 0, 0, null],
        [2, 0, 0, null],
      ]),
      /twice/,
    ],
  ];
  it.each(cases)('%s', (_name, bytes, message) => {
    expect(() => readSessions(new Reader(bytes), 10, readText)).toThrow(message);
    expect(() => readSessions(new Reader(bytes), 10, readText)).toThrow(DecodeError);
  });

  it('a valid image reads back', () => {
    const bytes = image([
      [1, 0, 2, null],
      [2, 3, 4, 'ok'],
    ]);
    expect(readSessions(new Reader(bytes), 10, readText).sessions).toEqual([
      { clientId: 1, lastSeq: 0, lastResult: null, lastActive: 2 },
      { clientId: 2, lastSeq: 3, lastResult: 'ok', lastActive: 4 },
    ]);
  });

  it("calls the machine's own corruption error when given one", () => {
    class Mine extends Error {}
    const corrupt = (m: string): never => {
      throw new Mine(m);
    };
    expect(() => readSessions(new Reader(image([[4, 0, 0, null]])), 10, readText, corrupt)).toThrow(Mine);
  });
});
