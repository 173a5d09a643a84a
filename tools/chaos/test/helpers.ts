import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllStarted, MEMBER_PROGRAM } from '@keel/bench';
import { runChaosCli } from '../src/index.js';

export const MEMBER_BUILT = existsSync(MEMBER_PROGRAM);

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly lastLine: string;
  readonly json: Record<string, unknown>;
  readonly html: string;
}

/** Runs `keel chaos` in-process with a JSON and an HTML report; kills whatever it left behind. */
export async function chaos(...argv: string[]): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-chaos-test-'));
  let out = '';
  let err = '';
  try {
    const json = join(dir, 'run.json');
    const html = join(dir, 'run.html');
    const code = await runChaosCli([...argv, '--json', json, '--html', html], {
      out: (t) => (out += t),
      err: (t) => (err += t),
    });
    const lines = out.trimEnd().split('\n');
    return {
      code,
      out,
      err,
      lastLine: lines[lines.length - 1]!,
      json: existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>) : {},
      html: existsSync(html) ? readFileSync(html, 'utf8') : '',
    };
  } finally {
    // By PID, only what this process started (the run stops its members itself; this is the net).
    killAllStarted();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const VERDICT_LINE = /^chaos: (\d+) ops, (\d+) violations, (\d+) lost writes, verdict (ok|FAIL)$/;
