import { describe, expect, it } from 'vitest';
import {
  CHAOS_USAGE,
  ChaosExit,
  type ChaosRun,
  parseChaosArgs,
  parseDuration,
  reproduceCommand,
  runChaosCli,
} from '../src/index.js';

function capture() {
  let out = '';
  let err = '';
  return {
    io: { out: (t: string) => (out += t), err: (t: string) => (err += t) },
    out: () => out,
    err: () => err,
  };
}

describe('keel chaos flags', () => {
  const cases: [string[], RegExp][] = [
    [['--nodes', '4'], /--nodes must be 3 or 5, not 4/],
    [['--nodes', '7'], /--nodes must be an integer from 3 to 5/],
    [['--duration', 'soon'], /--duration must be a duration like 500ms, 5s or 2m/],
    [['--duration', '10ms'], /--duration must be from 1s to 24h/],
    [['--faults', 'kill,meteor'], /unknown fault 'meteor'/],
    [['--seed', '1.5'], /--seed must be an integer from 0 to 4294967295/],
    [['--snapshot-entries', '0'], /--snapshot-entries must be an integer from 1 to 1000000000, not '0'/],
    [['--compact-keep', 'lots'], /--compact-keep must be an integer from 0 to 1000000000/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /Unexpected argument 'extra'/],
  ];
  for (const [argv, message] of cases) {
    it(`rejects '${argv.join(' ')}' with one line, the usage and exit 2`, async () => {
      const c = capture();
      expect(await runChaosCli(argv, c.io)).toBe(ChaosExit.Usage);
      const [first, blank, ...rest] = c.err().split('\n');
      expect(first).toMatch(message);
      expect(first).toMatch(/^keel chaos: /);
      expect(blank).toBe('');
      expect(rest.join('\n')).toContain('Usage: keel chaos');
      expect(c.err()).not.toMatch(/\n\s+at /);
      expect(c.out()).toBe('');
    });
  }

  it('prints the usage with --help', async () => {
    const c = capture();
    expect(await runChaosCli(['--help'], c.io)).toBe(ChaosExit.Ok);
    expect(c.out()).toBe(`${CHAOS_USAGE}\n`);
  });

  it('reads durations in ms, s, m and h, and defaults to everything but amnesia, membership included', () => {
    expect([parseDuration('1500ms'), parseDuration('90s'), parseDuration('5m'), parseDuration('2')]).toEqual([
      1500, 90_000, 300_000, 2000,
    ]);
    const o = parseChaosArgs(['--seed', '7']);
    if (o === 'help') throw new Error('unexpected');
    expect(o).toMatchObject({ nodes: 3, durationMs: 60_000, seed: 7, netns: false, txnPercent: 0 });
    expect(o.faults).toEqual([
      'kill',
      'pause',
      'partition',
      'torn-wal',
      'power-loss',
      'transfer',
      'membership',
    ]);
    expect(o.memberArgs).toEqual([]);
  });

  it("passes snapshot settings to every member as keel node's own flags", () => {
    const o = parseChaosArgs([
      '--snapshot-entries',
      '500',
      '--compact-keep',
      '100',
      '--election-timeout',
      '300',
    ]);
    if (o === 'help') throw new Error('unexpected');
    expect(o.memberArgs).toEqual([
      '--election-timeout',
      '300',
      '--heartbeat-interval',
      '100',
      '--tick',
      '10',
      '--snapshot-entries',
      '500',
      '--compact-keep',
      '100',
    ]);
  });

  it('prints a reproduce command that carries every flag that shapes the run', () => {
    const argv = [
      '--nodes',
      '5',
      '--duration',
      '90s',
      '--faults',
      'kill,membership',
      '--seed',
      '42',
      '--clients',
      '3',
      '--txns',
      '10',
    ].concat(['--election-timeout', '300', '--snapshot-entries', '500', '--compact-keep', '100']);
    const o = parseChaosArgs(argv);
    if (o === 'help') throw new Error('unexpected');
    expect(reproduceCommand({ options: o } as unknown as ChaosRun)).toBe(
      'keel chaos --nodes 5 --duration 90s --faults kill,membership --seed 42 --clients 3 --txns 10 ' +
        '--election-timeout 300 --snapshot-entries 500 --compact-keep 100',
    );
  });
});
