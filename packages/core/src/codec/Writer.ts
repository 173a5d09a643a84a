import { EncodeError } from './errors.js';

const textEncoder = new TextEncoder();

/** Default size of one pool buffer: large enough for thousands of small frames. */
export const DEFAULT_WRITER_POOL_BYTES = 64 * 1024;

/** Room a varint can take: 2^53 - 1 needs 8 groups of 7 bits. */
export const MAX_VARINT_BYTES = 8;

/**
 * Writes frames back to back into a pooled buffer and hands out a view of each finished one.
 * Bytes handed out are never rewritten: when the pool is full it is replaced, not reused, so a
 * frame stays valid while ZeroMQ (which may send it zero-copy, after `send()` resolved) holds it.
 *
 * Integers are big-endian; `varint` is unsigned LEB128 limited to 2^53 - 1.
 */
export class Writer {
  private readonly poolSize: number;
  private buf: Uint8Array;
  private view: DataView;
  /** Where the frame being written begins; bytes below it were handed out. */
  private start = 0;
  private pos = 0;

  constructor(poolSize: number = DEFAULT_WRITER_POOL_BYTES) {
    this.poolSize = poolSize;
    this.buf = new Uint8Array(poolSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written to the current frame so far. */
  get length(): number {
    return this.pos - this.start;
  }

  /** Discards the frame in progress (for instance after an encode error). */
  reset(): void {
    this.pos = this.start;
  }

  /** Makes room for `n` more bytes, moving the frame in progress to a fresh buffer if needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.start;
    let capacity = this.poolSize;
    while (capacity < pending + n) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.start = 0;
    this.pos = pending;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  u16(value: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** Unsigned LEB128, canonical (shortest) form, for 0 <= value <= 2^53 - 1. */
  varint(value: number): void {
    if (!(value >= 0 && Number.isSafeInteger(value))) {
      throw new EncodeError(`varint out of range: ${value}`);
    }
    this.ensure(MAX_VARINT_BYTES);
    const buf = this.buf;
    let p = this.pos;
    while (value >= 0x80) {
      buf[p++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[p++] = value;
    this.pos = p;
  }

  /** Raw bytes, no length. */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n <= 16) {
      const buf = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) buf[p + i] = bytes[i]!;
    } else {
      this.buf.set(bytes, this.pos);
    }
    this.pos += n;
  }

  /** Varint length, then the bytes. */
  lenBytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** Varint byte length, then UTF-8. */
  utf8(value: string): void {
    const n = value.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (value.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      this.lenBytes(textEncoder.encode(value));
      return;
    }
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) buf[p + i] = value.charCodeAt(i);
    this.pos += n;
  }

  /**
   * Reserves a 4-byte big-endian length to be filled by `endLength` once the enclosed bytes are
   * written. The token is relative to the frame start, so it survives a move to a new buffer.
   */
  beginLength(): number {
    const token = this.pos - this.start;
    this.u32(0);
    return token;
  }

  /** Back-patches the length reserved by `beginLength`: the bytes written after it. */
  endLength(token: number): void {
    const at = this.start + token;
    this.view.setUint32(at, this.pos - at - 4);
  }

  /** Ends the frame and returns a view of it; the view's bytes are never written again. */
  finish(): Uint8Array {
    const frame = new Uint8Array(this.buf.buffer, this.start, this.pos - this.start);
    if (this.buf.length > this.poolSize) {
      // An oversized frame grew the buffer; do not keep a large buffer alive for small frames.
      this.buf = new Uint8Array(this.poolSize);
      this.view = new DataView(this.buf.buffer);
      this.start = 0;
      this.pos = 0;
    } else {
      this.start = this.pos;
    }
    return frame;
  }
}
