import { processAlive as alive } from '@keel/ops';
import { describe, expect, it } from 'vitest';
import { BackgroundLoad } from '../src/backgroundLoad.js';

describe('BackgroundLoad (scripts/load.mjs beside a benchmark)', () => {
  it('starts, stops by PID with a summary, and leaves no process behind', async () => {
    const load = BackgroundLoad.start({ cpu: 1, fsync: 1, maxSeconds: 30 });
    const pid = load.pid;
    expect(alive(pid)).toBe(true);
    const summary = await load.stop();
    expect(summary).toMatchObject({ cpu: 1, fsync: 1 });
    expect(summary!.seconds).toBeLessThan(30);
    expect(alive(pid)).toBe(false);
  }, 20_000);
});
