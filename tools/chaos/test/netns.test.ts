import { killAllStarted } from '@keel/ops';
import { afterEach, describe, expect, it } from 'vitest';
import { netnsUnavailable } from '../src/index.js';
import { chaos, MEMBER_BUILT, VERDICT_LINE } from './helpers.js';

// A test that times out never reaches chaos()'s own cleanup: kill what it started, by PID, here.
afterEach(() => killAllStarted());

const why = netnsUnavailable() ?? (MEMBER_BUILT ? null : 'apps/node is not built');
if (why !== null) console.log(`netns chaos test skipped: ${why}`);

describe.skipIf(why !== null)('keel chaos --netns (members in their own network namespaces)', () => {
  it('partitions by blackhole routes and kills; members bind 0.0.0.0 and advertise their own address', async () => {
    const r = await chaos(
      '--netns',
      '--nodes',
      '3',
      '--duration',
      '15s',
      '--faults',
      'partition,kill',
      '--seed',
      '11',
    );
    expect(r.lastLine, `${r.out}\n${r.err}`).toMatch(/0 violations, 0 lost writes, verdict ok$/);
    expect(VERDICT_LINE.test(r.lastLine)).toBe(true);
    const ns = /network namespaces (keel-[0-9a-f]+)-n1, \1-n2, \1-n3 on (10\.\d+\.\d+)\.0\/24/.exec(r.err);
    expect(ns, r.err).not.toBeNull();
    expect(r.err).toContain(`advertise ${ns![2]}.11, ${ns![2]}.12, ${ns![2]}.13`);
    const faults = r.json.faults as { kind: string }[];
    expect(faults.some((f) => f.kind.startsWith('partition'))).toBe(true);
    // Everything it created is gone.
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns![1]);
  });
});
