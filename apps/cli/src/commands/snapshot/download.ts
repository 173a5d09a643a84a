import { request } from 'node:http';
import { adminHeaders } from '@keel/ops';

/** The snapshot a member streamed, with the meta of its `x-keel-*` headers. */
export interface Downloaded {
  readonly chunks: Uint8Array[];
  readonly bytes: number;
  readonly index: number;
  readonly term: number;
  readonly voters: readonly string[];
  readonly clusterId: string;
  readonly member: string;
}

/** Thrown when the member refuses or the transfer breaks off; the message says what happened. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

/**
 * `GET /snapshot?fresh=1` on a member's admin endpoint: the member snapshots the state it applied
 * when the request came and streams it. `progress(received, total)` runs as bytes arrive. Bounded
 * by `timeoutMs` of silence (a large store takes a while to snapshot, so not the whole transfer).
 */
export function downloadSnapshot(
  endpoint: string,
  timeoutMs: number,
  progress: (received: number, total: number) => void,
): Promise<Downloaded> {
  return new Promise((resolve, reject) => {
    const req = request(
      `http://${endpoint}/snapshot?fresh=1`,
      { method: 'GET', headers: adminHeaders() },
      (res) => {
        const chunks: Uint8Array[] = [];
        let received = 0;
        if (res.statusCode !== 200) {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let message = text.trim();
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              // not JSON: the text as it came
            }
            reject(new DownloadError(`${endpoint} answered ${res.statusCode}: ${message}`));
          });
          return;
        }
        const h = res.headers;
        const num = (name: string): number => Number(h[name] ?? Number.NaN);
        const total = num('content-length');
        const index = num('x-keel-snapshot-index');
        const term = num('x-keel-snapshot-term');
        if (![total, index, term].every((n) => Number.isSafeInteger(n) && n >= 0)) {
          res.destroy();
          reject(
            new DownloadError(`${endpoint} is not a Keel member serving GET /snapshot (headers missing)`),
          );
          return;
        }
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          received += c.length;
          progress(received, total);
        });
        res.on('end', () => {
          if (received !== total) {
            reject(
              new DownloadError(`the transfer from ${endpoint} ended after ${received} of ${total} bytes`),
            );
            return;
          }
          const voters = String(h['x-keel-snapshot-voters'] ?? '');
          resolve({
            chunks,
            bytes: total,
            index,
            term,
            voters: voters === '' ? [] : voters.split(','),
            clusterId: String(h['x-keel-cluster-id'] ?? ''),
            member: String(h['x-keel-member'] ?? ''),
          });
        });
        res.on('error', (err) =>
          reject(new DownloadError(`the transfer from ${endpoint} broke off: ${err.message}`)),
        );
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new DownloadError(`${endpoint} sent nothing for ${timeoutMs / 1000} s`)),
    );
    req.on('error', (err) =>
      reject(
        err instanceof DownloadError ? err : new DownloadError(`cannot reach ${endpoint}: ${err.message}`),
      ),
    );
    req.end();
  });
}
