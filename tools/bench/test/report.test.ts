import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchCli } from '../src/main.js';
import { htmlReport, jsonReport, textReport } from '../src/report.js';
import { electionFixture, throughputFixture, watchFixture } from './fixtures.js';
import { captureIo, tempDir } from './helpers.js';

const tmp = tempDir('report');
afterAll(() => tmp.remove());

describe('reports', () => {
  it('throughput HTML is self-contained and holds the three charts and the machine', () => {
    const html = htmlReport(throughputFixture(), ['keel-bench', 'write']);
    for (const id of ['chart-throughput', 'chart-latency-p99', 'chart-latency-cdf'])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain('<h2>Machine</h2>');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("election HTML has a CDF per setting with the paper's Figure 16 marks", () => {
    const html = htmlReport(electionFixture(), ['keel-bench', 'election']);
    expect(html).toContain('id="chart-election-150"');
    expect(html).toContain('id="chart-election-12"');
    expect(html).toContain('paper 150-300 ms: p99 405 ms');
    expect(html).toContain('paper 12-24 ms: max 152 ms');
  });

  it('watch text names every step with its counts, and the HTML holds the latency CDF', () => {
    const r = watchFixture();
    const text = textReport(r);
    expect(text).toContain('Keel watch fan-out, 3 members, 4 writer(s) 200 puts/s paced');
    for (const line of ['events/s', 'sent→p50', 'lost', 'cpu µs/event']) expect(text).toContain(line);
    expect(text.split('\n').filter((l) => /^[123] +(1|100|1000) /.test(l))).toHaveLength(3);
    const html = htmlReport(r, ['keel-bench', 'watch']);
    expect(html).toContain('id="chart-watch-latency-cdf"');
    expect(html).not.toContain('<script');
  });

  it('JSON carries the schema version, the command and one object per step', () => {
    const doc = JSON.parse(jsonReport(throughputFixture(), ['keel-bench', 'write'])) as {
      schema_version: number;
      command: string[];
      steps: { ops_per_sec: number; latency_ms: { p50: number; p99: number } }[];
    };
    expect(doc.schema_version).toBe(1);
    expect(doc.command).toEqual(['keel-bench', 'write']);
    expect(doc.steps).toHaveLength(6);
    for (const s of doc.steps) expect(s.latency_ms.p50).toBeLessThanOrEqual(s.latency_ms.p99);
  });

  it('terminal tables name every step and the paper reference', () => {
    expect(
      textReport(throughputFixture())
        .split('\n')
        .filter((l) => /^\d+\s+write/.test(l)),
    ).toHaveLength(6);
    expect(textReport(electionFixture())).toContain('Figure 16');
  });

  it('election text reports a loaded run beside its unloaded twin, with the ratios', () => {
    const r = electionFixture();
    const quiet = { ...r.runs[0]!, loadavg_1m: 1.5, load: null };
    const leader_ms = {
      ...quiet.leader_ms,
      median: quiet.leader_ms.median * 2,
      p90: quiet.leader_ms.p90 * 3,
    };
    const load = { cpu: 2, fsync: 1, seconds: 60, fsyncsPerSecond: 900, writtenMiB: 30 };
    const text = textReport({ ...r, runs: [quiet, { ...quiet, leader_ms, load }] });
    expect(text).toContain('avg 1.5 +load 2 cpu, 900 fsync/s');
    expect(text).toMatch(/150 ms kill, new leader, loaded \/ unloaded: median 2\.00x, p90 3\.00x/);
  });
});

// The HTML report in a real browser: Debian's chromium driven by playwright-core.
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.log(`skipping the headless Chromium report test: ${CHROMIUM} is absent (apt-get install chromium)`);
}

describe.skipIf(!haveChromium)('HTML reports in headless Chromium', () => {
  it('render every chart with drawn series, without console errors or network requests', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox'],
      timeout: 20_000,
    });
    try {
      for (const [name, report, charts] of [
        ['throughput', throughputFixture(), 3],
        ['election', electionFixture(), 2],
        ['watch', watchFixture(), 1],
      ] as const) {
        const file = join(tmp.path, `${name}.html`);
        writeFileSync(file, htmlReport(report, ['keel-bench', name]));
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning')
            problems.push(`console ${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
        });
        await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 15_000 });
        const drawn = await page.$$eval('svg.chart', (svgs) =>
          svgs.map((svg) => {
            const box = svg.getBoundingClientRect();
            const paths = [...svg.querySelectorAll('path.series')].map((p) =>
              (p as unknown as { getTotalLength(): number }).getTotalLength(),
            );
            return { id: svg.id, w: box.width, h: box.height, paths };
          }),
        );
        expect(drawn).toHaveLength(charts);
        for (const c of drawn) {
          expect(c.w, c.id).toBeGreaterThan(300);
          expect(c.h, c.id).toBeGreaterThan(150);
          expect(c.paths.length, c.id).toBeGreaterThan(0);
          for (const len of c.paths) expect(len, `${c.id} series length`).toBeGreaterThan(10);
        }
        if (name === 'election') expect(await page.locator('path.mark').count()).toBe(5);
        await page.screenshot({ path: join(tmp.path, `${name}.png`), fullPage: true });
        expect(problems).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});

describe('keel-bench report', () => {
  it('prints a saved JSON report and renders its HTML again', async () => {
    const json = join(tmp.path, 'saved.json');
    const html = join(tmp.path, 'again.html');
    writeFileSync(json, jsonReport(electionFixture(), ['keel-bench', 'election', '--trials', '20']));
    const c = captureIo();
    expect(await runBenchCli(['report', json, '--html', html], c.io)).toBe(0);
    expect(c.out()).toContain('Figure 16');
    expect(readFileSync(html, 'utf8')).toContain('keel-bench election --trials 20');
    const bad = captureIo();
    expect(await runBenchCli(['report', json, '--trials', '3'], bad.io)).toBe(2);
  });
});
