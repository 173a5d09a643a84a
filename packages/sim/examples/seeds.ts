// Runs ten seeds of the deterministic simulator, then shows that a planted engine bug is caught and
// that its failing seed replays exactly. Run: node --conditions=source --import tsx examples/seeds.ts
import { FaultMix, runSeed } from '@keel/sim';

let violations = 0;
for (let seed = 0; seed < 10; seed++) {
  const r = runSeed(seed, { faults: FaultMix.all });
  if (!r.ok) violations++;
  console.log(
    `seed ${seed}: ${r.stats.nodes} nodes, ${r.stats.leaders} leaders, ${r.stats.ops.ok} ops ok, ${r.ok ? 'ok' : 'FAIL'}`,
  );
}
console.log(`10 seeds, ${violations} violations`);

// A planted bug: a node votes twice in one term. The vote-once check stops the run.
const bugs = { doubleVote: true } as const;
for (let seed = 0; seed < 50; seed++) {
  const r = runSeed(seed, { nodes: 5, bugs });
  if (r.ok) continue;
  const again = runSeed(seed, { nodes: 5, bugs });
  console.log(`planted bug caught at seed ${seed}: ${r.violations[0]}`);
  console.log(`replays identically: ${again.violations[0] === r.violations[0]}`);
  break;
}
