import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllStarted } from '@keel/ops';
import { MEMBER_PROGRAM } from '../src/cluster.js';
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

export type JsonHandler = (method: string, path: string, body: unknown) => Promise<[number, unknown]>;

/** A JSON HTTP server on 127.0.0.1 (a stand-in for a member's admin endpoint); `http` is host:port. */
export async function jsonServer(handle: JsonHandler): Promise<{ http: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      handle(req.method ?? 'GET', path, text === '' ? undefined : JSON.parse(text)).then(
        ([status, reply]) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply)),
        (err: Error) =>
          res.writeHead(500).end(JSON.stringify({ ok: false, reason: 'internal', message: err.message })),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return {
    http: `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
