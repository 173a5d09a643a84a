import { createHash } from 'node:crypto';
import * as zmq from 'zeromq';
import { TransportError, TransportErrorCode } from './errors.js';
import type { TransportLogger } from './logger.js';

/** A CURVE key pair as Z85 text (40 characters each), the form zeromq and config files use. */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** Makes a fresh CURVE key pair (`keel keygen`). Keep the secret key private to one member. */
export function generateKeyPair(): CurveKeyPair {
  if (!zmq.capability.curve) {
    throw new TransportError(TransportErrorCode.InvalidConfig, 'this ZeroMQ build has no CURVE support');
  }
  const { publicKey, secretKey } = zmq.curveKeyPair();
  return { publicKey, secretKey };
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_INDEX = new Map([...Z85].map((c, i) => [c, i]));

/** Z85 (ZeroMQ RFC 32) text for bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError('Z85 encodes multiples of 4 bytes');
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    const chunk = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chunk[j] = Z85[v % 85]!;
      v = Math.floor(v / 85);
    }
    out += chunk.join('');
  }
  return out;
}

/** Bytes of Z85 text, or null when the text is not valid Z85. */
export function z85Decode(text: string): Uint8Array | null {
  if (text.length % 5 !== 0) return null;
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const d = Z85_INDEX.get(text[i + j]!);
      if (d === undefined) return null;
      v = v * 85 + d;
    }
    if (v > 0xffffffff) return null;
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
  return out;
}

/** Throws a clear config error unless `key` is a 40-character Z85 CURVE key. */
export function assertCurveKey(key: string, what: string): void {
  const bytes = z85Decode(key);
  if (key.length !== 40 || bytes === null) {
    throw new TransportError(TransportErrorCode.InvalidConfig, `${what} is not a 40-character Z85 CURVE key`);
  }
}

/**
 * A short, stable name for a public key in logs and errors: `sha256:` and the first 16 hex digits
 * of the SHA-256 of the key's 32 bytes (`keel keygen` prints it too).
 */
export function keyFingerprint(publicKey: string): string {
  const bytes = z85Decode(publicKey);
  const data = bytes !== null && bytes.length === 32 ? bytes : Buffer.from(publicKey, 'utf8');
  return `sha256:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
}

/** The ZAP address every ZeroMQ context consults (RFC 27); one handler per context. */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/**
 * A ZAP handler (ZeroMQ RFC 27) that admits a CURVE client only if its public key is allowed for
 * the ZAP domain the server socket set. Runs on its own context's inproc endpoint, so each
 * component (peer transport, client server) has its own context and its own policy.
 */
export class ZapHandler {
  private readonly socket: zmq.Router;
  private readonly done: Promise<void>;

  private constructor(
    socket: zmq.Router,
    private readonly allowed: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly logger: TransportLogger,
    private readonly onDenied: (domain: string, address: string, publicKey: string | null) => void,
  ) {
    this.socket = socket;
    this.done = this.serve();
  }

  /** Binds the handler in `context`; `allowed` maps each ZAP domain to its allowed public keys. */
  static async start(
    context: zmq.Context,
    allowed: ReadonlyMap<string, ReadonlySet<string>>,
    logger: TransportLogger,
    onDenied: (domain: string, address: string, publicKey: string | null) => void = () => {},
  ): Promise<ZapHandler> {
    const socket = new zmq.Router({ context, linger: 0 });
    await socket.bind(ZAP_ENDPOINT);
    return new ZapHandler(socket, allowed, logger, onDenied);
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials...]
        const [route, empty, version, requestId, domain, address, , mechanism, key] = frames;
        if (route === undefined || empty === undefined || version === undefined || requestId === undefined)
          continue;
        const domainText = domain?.toString() ?? '';
        let ok = false;
        let presented: string | null = null;
        if (version.toString() === '1.0' && mechanism?.toString() === 'CURVE' && key?.length === 32) {
          presented = z85Encode(key);
          ok = this.allowed.get(domainText)?.has(presented) ?? false;
        }
        if (!ok) this.onDenied(domainText, address?.toString() ?? '', presented);
        await this.socket.send([
          route,
          empty,
          '1.0',
          requestId,
          ok ? '200' : '400',
          ok ? 'OK' : 'public key not allowed',
          '',
          '',
        ]);
      }
    } catch (err) {
      if (!this.socket.closed) this.logger.error({ err }, 'ZAP handler stopped');
    }
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.done;
  }
}
