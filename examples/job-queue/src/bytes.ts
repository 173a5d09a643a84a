/**
 * The byte plumbing of the job queue's codec: a growable writer and a bounds-checked reader. Kept
 * here rather than borrowed from an engine package, so the example shows everything a state
 * machine of your own needs and depends only on `@keel/core`'s documented interfaces.
 */

/** Thrown for bytes that are not a valid command, result or snapshot. */
export class JobQueueDecodeError extends Error {
  readonly code = 'JOBQ_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'JobQueueDecodeError';
  }
}

export class ByteWriter {
  #buf = new Uint8Array(64);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
    return this;
  }

  /** An unsigned integer up to 2^53 - 1, 7 bits a byte. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    while (v >= 0x80) {
      this.u8((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    return this.u8(v);
  }

  f64(v: number): this {
    this.#ensure(8);
    this.#view.setFloat64(this.#len, v);
    this.#len += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.varint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  utf8(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number): void {
    if (this.#at + n > this.#bytes.length) throw new JobQueueDecodeError(`truncated at byte ${this.#at}`);
  }

  u8(): number {
    this.#need(1);
    return this.#bytes[this.#at++]!;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) {
        // One encoding per number: a trailing zero group would let two byte strings mean the same.
        if (!Number.isSafeInteger(v) || (b === 0 && i > 0)) break;
        return v;
      }
      scale *= 0x80;
    }
    throw new JobQueueDecodeError(`bad varint before byte ${this.#at}`);
  }

  f64(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.#at);
    this.#at += 8;
    if (!Number.isFinite(v)) throw new JobQueueDecodeError(`non-finite number before byte ${this.#at}`);
    return v;
  }

  /** Length-prefixed bytes of at most `max`; a copy, so the caller may keep them. */
  bytes(max: number): Uint8Array {
    const n = this.varint();
    if (n > max) throw new JobQueueDecodeError(`${n} bytes exceed the limit of ${max}`);
    this.#need(n);
    const out = this.#bytes.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  utf8(max: number): string {
    const b = this.bytes(max);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      throw new JobQueueDecodeError(`invalid UTF-8 before byte ${this.#at}`);
    }
  }

  /** At most `max` items follow (guards allocation against hostile counts). */
  count(max: number): number {
    const n = this.varint();
    if (n > max) throw new JobQueueDecodeError(`count ${n} exceeds ${max}`);
    return n;
  }

  done(): void {
    if (this.#at !== this.#bytes.length) {
      throw new JobQueueDecodeError(`${this.#bytes.length - this.#at} trailing bytes`);
    }
  }
}
