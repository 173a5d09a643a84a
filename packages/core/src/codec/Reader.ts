import { DecodeError, DecodeErrorReason } from './errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A bounds-checked cursor over one frame. Every read checks the remaining length first and throws
 * a `DecodeError` instead of reading past the end, and no read allocates more than the bytes it
 * returns: `bytes` and `lenBytes` are views into the frame (copy them to outlive it).
 */
export class Reader {
  private bytes: Uint8Array;
  private view: DataView;
  private pos: number;
  private end: number;

  constructor(bytes: Uint8Array, offset = 0, end: number = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = offset;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: DecodeErrorReason, message: string): never {
    throw new DecodeError(reason, message, this.pos);
  }

  private need(n: number): void {
    if (this.end - this.pos < n) this.fail(DecodeErrorReason.Truncated, `need ${n} byte(s)`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail(DecodeErrorReason.Truncated, 'need 1 byte');
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned LEB128; rejects non-canonical encodings and values above 2^53 - 1. */
  varint(): number {
    const bytes = this.bytes;
    if (this.pos >= this.end) this.fail(DecodeErrorReason.Truncated, 'need a varint');
    let b = bytes[this.pos++]!;
    if (b < 0x80) return b;
    let value = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < 8; i++) {
      if (this.pos >= this.end) this.fail(DecodeErrorReason.Truncated, 'varint runs past the end');
      b = bytes[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        // A zero last group means a shorter encoding existed: only canonical forms are accepted,
        // so every accepted frame re-encodes to the same bytes.
        if (b === 0) this.fail(DecodeErrorReason.Malformed, 'non-canonical varint');
        if (value > Number.MAX_SAFE_INTEGER) this.fail(DecodeErrorReason.Malformed, 'varint above 2^53-1');
        return value;
      }
      scale *= 0x80;
    }
    return this.fail(DecodeErrorReason.Malformed, 'varint longer than 8 bytes');
  }

  /** A varint that must not exceed `max` (counts and lengths). */
  count(max: number, what: string): number {
    const n = this.varint();
    if (n > max) this.fail(DecodeErrorReason.Oversized, `${what} ${n} above limit ${max}`);
    return n;
  }

  /** A view of the next `n` bytes. */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.bytes.subarray(start, start + n);
  }

  /** Varint length (at most `max`), then a view of that many bytes. */
  lenBytes(max: number): Uint8Array {
    const n = this.count(max, 'length');
    return this.bytesView(n);
  }

  /** Varint byte length (at most `max`), then strict UTF-8. */
  utf8(max: number): string {
    const view = this.lenBytes(max);
    try {
      return textDecoder.decode(view);
    } catch {
      return this.fail(DecodeErrorReason.Malformed, 'invalid UTF-8');
    }
  }

  /** Asserts the frame is fully consumed. */
  done(): void {
    if (this.pos !== this.end) {
      this.fail(DecodeErrorReason.Malformed, `${this.end - this.pos} trailing byte(s)`);
    }
  }
}
