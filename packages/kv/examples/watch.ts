// Watches on one member's state machine: the history window, a watcher's cursor, `compacted`.
// What `KvClient.watch` asks a member for, without the network (see the README's Watch section).
// Run: pnpm --filter @keel/kv exec tsx --conditions=source examples/watch.ts
import { EntryType } from '@keel/core';
import { encodeEntry, type KvCommand, KvStateMachine, type WatchPoll } from '@keel/kv';

// A tiny history window (5 events) so the example can fall out of it.
const kv = new KvStateMachine({ watch: { maxEvents: 5 } });
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
let index = 0;
const commit = (command: KvCommand) =>
  kv.apply({ index: ++index, term: 1, type: EntryType.Normal, data: encodeEntry({ time: 0, command }) });
const show = (p: WatchPoll) =>
  p.kind === 'events'
    ? p.events.map(
        (e) => `${e.type} ${dec(e.kv.key)}@${e.kv.modRevision}${e.prev ? ` (was ${dec(e.prev.value)})` : ''}`,
      )
    : p;

commit({ type: 'put', key: enc('cfg/a'), value: enc('1') });
// A watch on the prefix from revision 1, with previous values.
const w = kv.watches.create({ prefix: enc('cfg/') }, { from: 1, prevValue: true });
if (w.kind !== 'created') throw new Error(w.message);
commit({ type: 'put', key: enc('other'), value: enc('x') });
commit({ type: 'put', key: enc('cfg/a'), value: enc('2') });
commit({ type: 'delete', key: enc('cfg/a') });
console.log('batch:', show(kv.watches.poll(w.id)));
console.log('then:', show(kv.watches.poll(w.id)));
for (let i = 0; i < 5; i++) commit({ type: 'put', key: enc('other'), value: enc(String(i)) });
console.log('from 1 now:', show(kv.watches.create({ key: enc('cfg/a') }, { from: 1 }) as WatchPoll));
