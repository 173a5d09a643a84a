import { describe, expect, it } from 'vitest';
import { checkExposition } from '../src/testing/index.js';

/** A small exposition that follows every rule; each fixture below breaks one. */
const GOOD = `# HELP keel_things_total Things done
# TYPE keel_things_total counter
keel_things_total{kind="a",node_id="n1"} 3
keel_things_total{kind="b \\"quoted\\" \\\\ and\\nnewline",node_id="n1"} 0
# HELP keel_queue_bytes Bytes queued
# TYPE keel_queue_bytes gauge
keel_queue_bytes 12.5
# HELP keel_build_info Labels only
# TYPE keel_build_info gauge
keel_build_info{version="1.0.0"} 1
# HELP keel_wait_seconds How long
# TYPE keel_wait_seconds histogram
keel_wait_seconds_bucket{le="0.001",peer="b"} 1
keel_wait_seconds_bucket{le="0.1",peer="b"} 2
keel_wait_seconds_bucket{le="+Inf",peer="b"} 3
keel_wait_seconds_sum{peer="b"} 1.5
keel_wait_seconds_count{peer="b"} 3
# HELP nodejs_active_handles_total Not ours: naming rules do not apply
# TYPE nodejs_active_handles_total gauge
nodejs_active_handles_total 4
`;

describe('the exposition checker (the metrics lint)', () => {
  it('passes a text that follows the format and the conventions', () => {
    expect(checkExposition(GOOD)).toEqual([]);
  });

  // Each fixture must fail, with the problem it plants: a checker that passes everything proves nothing.
  const bad: [string, string, RegExp][] = [
    [
      'a cumulative value exported as a gauge without _total',
      GOOD.replace(/keel_things_total/g, 'keel_things'),
      /keel_things: a counter's name ends in _total/,
    ],
    [
      'a gauge named _total',
      GOOD.replace('TYPE keel_things_total counter', 'TYPE keel_things_total gauge'),
      /keel_things_total: only a counter's name ends in _total/,
    ],
    [
      'a duration in milliseconds',
      GOOD.replace(/keel_queue_bytes/g, 'keel_queue_ms'),
      /keel_queue_ms: 'ms' is not a base unit/,
    ],
    [
      'a histogram without its unit',
      GOOD.replace(/keel_wait_seconds/g, 'keel_wait'),
      /keel_wait: a histogram names its unit/,
    ],
    [
      'a histogram without +Inf',
      GOOD.replace('keel_wait_seconds_bucket{le="+Inf",peer="b"} 3\n', ''),
      /no le="\+Inf" bucket/,
    ],
    [
      'a +Inf bucket that is not the count',
      GOOD.replace('keel_wait_seconds_count{peer="b"} 3', 'keel_wait_seconds_count{peer="b"} 4'),
      /the \+Inf bucket \(3\) is not _count \(4\)/,
    ],
    [
      'buckets that are not cumulative',
      GOOD.replace(
        'keel_wait_seconds_bucket{le="0.1",peer="b"} 2',
        'keel_wait_seconds_bucket{le="0.1",peer="b"} 0',
      ),
      /not cumulative/,
    ],
    ['a bucket without le', GOOD.replace('{le="0.001",peer="b"}', '{peer="b"}'), /a bucket without le/],
    ['a sample with no TYPE', `${GOOD}keel_orphan 1\n`, /a sample without a TYPE/],
    [
      'a family without HELP',
      GOOD.replace('# HELP keel_queue_bytes Bytes queued\n', ''),
      /no HELP for keel_queue_bytes/,
    ],
    [
      'the same series twice',
      GOOD.replace('keel_queue_bytes 12.5\n', 'keel_queue_bytes 12.5\nkeel_queue_bytes 13\n'),
      /the same series twice/,
    ],
    [
      "a family's samples apart",
      `${GOOD}keel_queue_bytes{x="1"} 2\n`,
      /the samples of keel_queue_bytes are not together/,
    ],
    ['an unquoted label value', GOOD.replace('version="1.0.0"', 'version=1.0.0'), /without a quoted value/],
    ['a bad escape', GOOD.replace('version="1.0.0"', 'version="1\\t"'), /invalid escape/],
    ['a reserved label', GOOD.replace('version="1.0.0"', '__name__="x"'), /reserved label name/],
    [
      'a value that is no number',
      GOOD.replace('keel_queue_bytes 12.5', 'keel_queue_bytes twelve'),
      /no number/,
    ],
    ['a negative counter', GOOD.replace('node_id="n1"} 3', 'node_id="n1"} -3'), /a negative counter/],
    [
      'an _info-style gauge that is not 1',
      GOOD.replace('keel_build_info{version="1.0.0"} 1', 'keel_build_info{version="1.0.0"} 2'),
      /not 1/,
    ],
    ['no final newline', GOOD.trimEnd(), /does not end with a newline/],
  ];
  for (const [name, text, problem] of bad) {
    it(`fails ${name}`, () => {
      const problems = checkExposition(text);
      expect(
        problems.some((p) => problem.test(p)),
        problems.join('\n'),
      ).toBe(true);
    });
  }
});
