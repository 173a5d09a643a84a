import type { IncomingMessage, ServerResponse } from 'node:http';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

/**
 * Reads a JSON request body of at most `max` bytes and hands it to `then`; a larger body (413) or
 * one that is not JSON (400) is answered here, in the admin API's refusal shape.
 */
export function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  max: number,
  then: (body: unknown) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > max) {
      json(res, 413, { ok: false, reason: 'bad-request', message: `body larger than ${max} bytes` });
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      json(res, 400, { ok: false, reason: 'bad-request', message: 'the body is not JSON' });
      return;
    }
    then(body);
  });
}
