import { describe, expect, it } from 'vitest';
import { ExitCode, runBenchCli } from '../src/main.js';
import { captureIo } from './helpers.js';

describe('keel-bench flags', () => {
  const cases: [string[], RegExp][] = [
    [[], /name a benchmark/],
    [['throughput'], /unknown benchmark 'throughput'/],
    [['write', '--concurrency', '1,x'], /--concurrency must be a comma-separated list/],
    [['write', '--nodes', '4'], /--nodes must be odd/],
    [['write', '--bogus'], /Unknown option '--bogus'/],
    [['write', '--trials', '3'], /--trials applies to election only/],
    [['write', '--stale'], /--stale applies to read and mixed only/],
    [['txn', '--stale'], /--stale applies to read and mixed only/],
    [['txn', '--read-ratio', '0.5'], /--read-ratio applies to mixed only/],
    [['watch', '--concurrency', '4'], /--concurrency does not apply to watch/],
    [['write', '--watchers', '10'], /--watchers applies to watch only/],
    [['watch', '--value-size', '16,64'], /--value-size takes one value for watch/],
    [['watch', '--watchers', '0'], /--watchers must be a comma-separated list of integers from 1/],
    [['watch', '--rate', 'fast'], /--rate must be an integer from 0/],
    [['watch', '--writers', '0'], /--writers must be an integer from 1/],
    [['watch', '--watch-on', 'leader'], /--watch-on must be all or followers/],
    [['read', '--watch-on', 'followers'], /--watch-on applies to watch only/],
    [['election', '--mode', 'pause'], /--mode must be kill, stop or both/],
    [['election', '--duration', '1'], /--duration does not apply to election/],
    [['write', '--load'], /--load applies to election only/],
    [['snapshot', '--load'], /--load does not apply to snapshot/],
    [
      ['read', '--nodes', '3', '--endpoints', 'a:1/b:2'],
      /only one of --nodes, --cluster-file and --endpoints/,
    ],
    [['read', '--endpoints', 'localhost'], /not host:clientPort\/host:httpPort/],
    [['failover', '--scenario', 'pause'], /--scenario must be stop-leader or kill-two/],
    [['failover', '--scenario', 'kill-two', '--nodes', '3'], /failover takes --scenario and --trials only/],
    [['write', '--scenario', 'kill-two'], /--scenario applies to failover only/],
  ];
  for (const [argv, message] of cases) {
    it(`rejects '${argv.join(' ')}' with one line and exit 2`, async () => {
      const c = captureIo();
      expect(await runBenchCli(argv, c.io)).toBe(ExitCode.Usage);
      expect(c.err()).toMatch(message);
      expect(c.err().trim().split('\n')).toHaveLength(1);
      expect(c.out()).toBe('');
    });
  }

  it('prints the usage with --help', async () => {
    const c = captureIo();
    expect(await runBenchCli(['--help'], c.io)).toBe(ExitCode.Ok);
    expect(c.out()).toContain('Usage: keel bench <write|read|mixed|txn|watch|election|snapshot|failover>');
  });
});
