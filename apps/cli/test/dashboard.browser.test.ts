/**
 * The dashboard in a real browser against a real cluster: `keel cluster up` (foreground, three
 * `keel node` processes) serves it; headless Chromium (Debian's, driven by playwright-core, never a
 * downloaded browser) loads it, sees a leader, kills that leader from its card, sees another
 * leader and the timeline entry, runs a write load and sees writes/s move. Screenshots of each
 * state go to apps/cli/test-artifacts/dashboard/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberProgram } from '../src/cluster/paths.js';
import { type ExitCode, runCli } from '../src/index.js';
import { capture, freeBasePort, ProcessTracker, tempDir, until } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const MAIN = memberProgram({});
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.log(`skipping the dashboard browser test: ${CHROMIUM} is absent (apt-get install chromium)`);
}
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/dashboard/', import.meta.url));

const tracker = new ProcessTracker();
const tmp = tempDir('dashboard');
const dir = join(tmp.path, 'cluster');
const stop = new AbortController();
const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;
const c = capture({ env, stop: stop.signal }, tracker, MAIN);
let up: Promise<ExitCode> | null = null;
let browser: Browser | null = null;
let page: Page;
let url = '';
const problems: string[] = [];

/** The leader the page's summary names ('' while none). */
const shownLeader = async (): Promise<string> =>
  (await page.locator('#summary').getAttribute('data-leader')) ?? '';

describe.skipIf(!haveChromium || !existsSync(MAIN))(
  'the dashboard in headless Chromium, real cluster',
  () => {
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const base = await freeBasePort(3, 21000, 31000);
      up = runCli(
        ['cluster', 'up', '--dir', dir, '--base-port', String(base), '--dashboard-port', '0'],
        c.io,
      );
      url = await until('the dashboard URL printed by cluster up', 30_000, () =>
        c.out
          .map((l) => /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(l)?.[1])
          .find((u) => u !== undefined),
      );
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        timeout: 30_000,
      });
      // launch() gives each context a fresh profile in a temporary --user-data-dir, removed on close.
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith(url)) problems.push(`request off the dashboard: ${r.url()}`);
      });
    });

    afterAll(async () => {
      await browser?.close();
      stop.abort(); // the foreground `cluster up` stops its members in order and returns
      if (up !== null) await Promise.race([up, new Promise((r) => setTimeout(r, 20_000))]);
      tracker.trackClusterDir(dir);
      tracker.killAll();
      tmp.remove();
    });

    it('shows a leader, a new one after the leader is killed from its card, and the write load moving', async () => {
      await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
      const first = await until(
        'the page to show a leader',
        30_000,
        async () => (await shownLeader()) || undefined,
      );
      await until('three member cards', 10_000, async () =>
        (await page.locator('.card').count()) === 3 ? true : undefined,
      );
      await until('the leader card marked', 10_000, async () =>
        (await page.locator(`.card.leader[data-member="${first}"]`).count()) === 1 ? true : undefined,
      );
      await page.screenshot({ path: join(ARTIFACTS, '1-leader.png'), fullPage: true });

      // Kill the leader from its card, by keyboard: the page asks first (a destructive action) with
      // the focus on Cancel; Tab reaches Confirm.
      await page.locator(`button[data-action="kill"][data-id="${first}"]`).focus();
      await page.keyboard.press('Enter');
      await expect
        .poll(() => page.locator('#confirm').evaluate((d) => (d as { open: boolean }).open))
        .toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, '2-confirm-kill.png') });
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      const t0 = Date.now();
      const second = await until('another leader on the page', 15_000, async () => {
        const l = await shownLeader();
        return l !== '' && l !== first ? l : undefined;
      });
      console.log(
        `dashboard: ${second} shown as leader ${Date.now() - t0} ms after confirming the kill of ${first}`,
      );
      const timeline = page.locator('#timeline li');
      await until('the timeline to record the kill and the new leader', 10_000, async () => {
        const items = await timeline.allTextContents();
        const killed = items.some((t) => t.includes(`kill ${first}: ${first} (pid`));
        const led = items.some((t) => t.includes(`${second} leads in term`));
        return killed && led ? true : undefined;
      });
      await until('the killed member shown stopped', 10_000, async () =>
        (await page.locator(`.card.state-stopped[data-member="${first}"]`).count()) === 1 ? true : undefined,
      );
      await page.screenshot({ path: join(ARTIFACTS, '3-new-leader.png'), fullPage: true });

      // A bounded write load from the page: writes/s leaves zero.
      await page.locator('#load-rate').fill('200');
      await page.locator('#load-conc').fill('4');
      await page.locator('#load-secs').fill('30');
      await page.locator('#load-start').click();
      const wps = await until('writes/s above zero', 20_000, async () => {
        const n = Number(await page.locator('#wps').textContent());
        return n > 0 ? n : undefined;
      });
      console.log(`dashboard: the page shows ${wps} writes/s under a 200/s load`);
      // Let the chart draw a few seconds of load before the picture.
      await until('six seconds of writes on the chart', 20_000, async () =>
        Number(await page.locator('#chart').getAttribute('data-points')) >= 6 ? true : undefined,
      );
      await page.screenshot({ path: join(ARTIFACTS, '4-write-load.png'), fullPage: true });

      // Phone width and the dark theme: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: 'dark' });
      const overflow = Number(
        await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
      );
      expect(overflow).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(ARTIFACTS, '5-phone-dark.png'), fullPage: true });

      await page.locator('#load-stop').click();
      await until('the load to stop', 15_000, async () =>
        (await page.locator('#load-totals').textContent())?.startsWith('idle') ? true : undefined,
      );
      // Restart is not destructive: no question, and the member comes back and follows.
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.locator(`button[data-action="restart"][data-id="${first}"]`).click();
      expect(await page.locator('#confirm').evaluate((d) => (d as { open: boolean }).open)).toBe(false);
      await until(`${first} running and answering again`, 30_000, async () => {
        const role = await page
          .locator(`.card.state-running[data-member="${first}"] .role`)
          .textContent({ timeout: 1000 })
          .catch(() => null);
        return role === 'follower' || role === 'leader' ? true : undefined;
      });
      await until('the timeline to record the restart', 10_000, async () =>
        (await timeline.allTextContents()).some((t) => t.includes(`restart ${first}: ${first} started again`))
          ? true
          : undefined,
      );

      // Isolate whoever leads now from its card: the others elect another leader while it runs on;
      // Heal reconnects it. Neither is destructive, so neither asks.
      const cut = await until(
        'a leader before isolating it',
        30_000,
        async () => (await shownLeader()) || undefined,
      );
      await page.locator(`button[data-action="isolate"][data-id="${cut}"]`).click();
      await until(`${cut} shown isolated`, 10_000, async () =>
        (
          (await page.locator(`.card[data-member="${cut}"]  dd[data-field="state"]`).textContent()) ?? ''
        ).includes('isolated')
          ? true
          : undefined,
      );
      await until('the others to lead without the isolated member', 30_000, async () => {
        const l = await shownLeader();
        return l !== '' && l !== cut ? true : undefined;
      });
      await page.screenshot({ path: join(ARTIFACTS, '6-isolated.png'), fullPage: true });
      await page.locator(`button[data-action="heal"][data-id="${cut}"]`).click();
      await until('the timeline to record isolate and heal', 15_000, async () => {
        const items = await timeline.allTextContents();
        return items.some((t) => t.includes(`isolate ${cut}:`)) &&
          items.some((t) => t.includes(`heal ${cut}:`))
          ? true
          : undefined;
      });
      await until(`${cut} no longer shown isolated`, 10_000, async () =>
        (
          (await page.locator(`.card[data-member="${cut}"]  dd[data-field="state"]`).textContent()) ?? ''
        ).includes('isolated')
          ? undefined
          : true,
      );

      // The console's watch: a prefix followed from the page; a put through the console shows up.
      await page.locator('#kv-key').fill('watched/');
      await page.locator('#kv-prefix').check();
      await page.locator('#kv-watch').click();
      await until('the watch to start', 15_000, async () =>
        ((await page.locator('#watch-head').textContent()) ?? '').startsWith(
          'watching keys starting with watched/',
        )
          ? true
          : undefined,
      );
      await page.locator('#kv-key').fill('watched/a');
      await page.locator('#kv-value').fill('1');
      await page.locator('#kv-put').click();
      await until('the put shown in the watch', 15_000, async () =>
        (await page.locator('#watch-events li').allTextContents()).some((t) => /put watched\/a = 1$/.test(t))
          ? true
          : undefined,
      );
      await page.screenshot({ path: join(ARTIFACTS, '7-watch.png'), fullPage: true });
      expect(problems).toEqual([]);
    });
  },
);
