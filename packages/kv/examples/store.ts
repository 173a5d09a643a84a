// The KV state machine fed by hand: what every member does with each committed entry.
// Run: pnpm --filter @keel/kv exec tsx --conditions=source examples/store.ts
import { type Entry, EntryType } from '@keel/core';
import { encodeEntry, type KvCommand, type KvResult, KvStateMachine } from '@keel/kv';

const kv = new KvStateMachine({ sessionTimeoutMs: 60_000 });
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// What Raft would hand the state machine: entries with increasing indexes. The leader stamps each
// entry with its clock when it proposes; the state machine only ever reads that stamp.
let index = 0;
function commit(command: KvCommand, time: number): KvResult {
  const entry: Entry = {
    index: ++index,
    term: 1,
    type: EntryType.Normal,
    data: encodeEntry({ time, command }),
  };
  return kv.apply(entry);
}

const reg = commit({ type: 'registerSession' }, 1_000);
if (!reg.ok || reg.type !== 'registerSession') throw new Error('no session');
const clientId = reg.clientId;
console.log('session:', clientId);

const put = {
  type: 'put',
  key: enc('greeting'),
  value: enc('hello'),
  session: { clientId, seq: 1 },
} as const;
console.log('put:', commit(put, 1_010));
console.log('retry:', commit(put, 1_020)); // the reply was lost; same seq → the cached answer

console.log(
  'cas:',
  commit(
    {
      type: 'cas',
      key: enc('greeting'),
      expect: { version: 1 },
      value: enc('hi'),
      session: { clientId, seq: 2 },
    },
    1_030,
  ),
);
const again = commit(
  {
    type: 'cas',
    key: enc('greeting'),
    expect: { version: 1 },
    value: enc('yo'),
    session: { clientId, seq: 3 },
  },
  1_040,
);
if (!again.ok && again.code === 'compare-failed') {
  console.log('cas again:', again.code, '-', again.message, '- current value:', dec(again.current!.value));
}

for (const k of ['user/1', 'user/2', 'user/3'])
  commit({ type: 'put', key: enc(k), value: enc(k.toUpperCase()) }, 1_050);
const page = kv.scan({ prefix: enc('user/') }, 2); // a local read: stale, or linearizable after ReadIndex
console.log(
  'scan:',
  page.items.map((x) => dec(x.key)),
  'more:',
  page.more,
);
const rest = kv.scan({ prefix: enc('user/') }, 2, page.items[page.items.length - 1]!.key);
console.log(
  'next:',
  rest.items.map((x) => dec(x.key)),
  'more:',
  rest.more,
);

// Snapshot, restore elsewhere: same state, same sessions.
const copy = new KvStateMachine({ sessionTimeoutMs: 60_000 });
copy.restore(kv.snapshotBytes());
console.log('restored:', dec(copy.get(enc('greeting'))!.value), 'revision', copy.revision);

// A minute of log time later the session is gone: a retry is refused, never re-executed.
console.log('after expiry:', commit({ ...put, session: { clientId, seq: 4 } }, 62_000));
