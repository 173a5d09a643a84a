import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotMeta } from '@keel/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../src/crc32c.js';
import { SnapshotErrorCode } from '../src/errors.js';
import {
  decodeSnapshotFile,
  encodeSnapshotFile,
  openSnapshotStore,
  snapshotFileName,
} from '../src/FileSnapshotStore.js';

const conf = {
  voters: ['n1', 'n2', 'n3'],
  learners: ['n4'],
  addresses: new Map([['n4', 'tcp://127.0.0.1:9']]),
};
const meta = (index: number, term = 2): SnapshotMeta => ({ index, term, conf });
const bytes = (n: number, seed = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_v, i) => (i * 31 + seed) & 0xff);

function saved(
  store: Awaited<ReturnType<typeof openSnapshotStore>>,
  m: SnapshotMeta,
  d: Uint8Array | readonly Uint8Array[],
) {
  const chunks = d instanceof Uint8Array ? [d] : d;
  return new Promise<void>((resolve, reject) =>
    store.save(m, chunks, (err) => (err ? reject(err) : resolve())),
  );
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-snap-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('snapshot file format', () => {
  it('pins the header layout (golden hex)', () => {
    const file = encodeSnapshotFile(
      { index: 7, term: 3, conf: { voters: ['a'], learners: [], addresses: new Map() } },
      Uint8Array.of(0xaa, 0xbb),
    );
    const hex = Buffer.from(file).toString('hex');
    const confJson = Buffer.from('{"voters":["a"],"learners":[],"addresses":{}}').toString('hex');
    expect(hex.slice(0, 48)).toBe(
      // "KSNP", version 1 + 3 zero bytes, index 7 (u64 LE), term 3 (u64 LE)
      '4b534e50' + '01000000' + '0700000000000000' + '0300000000000000',
    );
    expect(hex.slice(48, 56)).toBe('2d000000'); // conf length 45
    expect(hex.slice(56, 56 + confJson.length)).toBe(confJson);
    expect(hex.slice(56 + confJson.length, 56 + confJson.length + 20)).toBe('0200000000000000aabb');
    expect(file.length).toBe(28 + 45 + 8 + 2 + 4);
    expect(decodeSnapshotFile(file, 'x')).toEqual({
      meta: { index: 7, term: 3, conf: { voters: ['a'], learners: [], addresses: new Map() } },
      chunks: [Uint8Array.of(0xaa, 0xbb)],
    });
  });

  it('rejects every single flipped byte with KEEL_SNAPSHOT_CORRUPT (or an unsupported version)', () => {
    const file = encodeSnapshotFile(meta(100), bytes(64));
    for (let i = 0; i < file.length; i++) {
      const copy = file.slice();
      copy[i]! ^= 0x10;
      let code: unknown = 'accepted';
      try {
        decodeSnapshotFile(copy, 'f');
      } catch (err) {
        code = (err as { code?: unknown }).code;
      }
      expect([SnapshotErrorCode.Corrupt, SnapshotErrorCode.UnsupportedVersion], `byte ${i}`).toContain(code);
    }
  });

  it('round-trips members named after Object.prototype members; their addresses stay a Map', () => {
    const special = ['constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf'];
    const c = {
      voters: special,
      learners: ['a'],
      addresses: new Map(special.map((id) => [id, `tcp://${id}:1`])),
    };
    const back = decodeSnapshotFile(encodeSnapshotFile({ index: 1, term: 1, conf: c }, bytes(1)), 'f');
    expect(back.meta.conf).toEqual(c);
    expect(back.meta.conf.addresses.get('toString')).toBe('tcp://toString:1');
  });

  it('refuses a configuration with an invalid member id, a stray address or a non-string address (issue #22)', () => {
    const withConf = (json: string): Uint8Array => {
      const good = encodeSnapshotFile(
        { index: 1, term: 1, conf: { voters: ['a'], learners: [], addresses: new Map() } },
        bytes(1),
      );
      const old = '{"voters":["a"],"learners":[],"addresses":{}}';
      const head = Buffer.from(good.subarray(0, 28));
      head.writeUInt32LE(Buffer.byteLength(json), 24);
      const body = Buffer.concat([
        head,
        Buffer.from(json),
        Buffer.from(good.subarray(28 + old.length, good.length - 4)),
      ]);
      const file = Buffer.alloc(body.length + 4);
      body.copy(file);
      file.writeUInt32LE(crc32c(body, 0, 0, body.length), body.length);
      return file;
    };
    // The helper itself makes a valid file from valid JSON.
    expect(
      decodeSnapshotFile(withConf('{"voters":["a"],"learners":[],"addresses":{"a":"x"}}'), 'f').meta.conf
        .addresses,
    ).toEqual(new Map([['a', 'x']]));
    for (const [json, why] of [
      ['{"voters":["__proto__"],"learners":[],"addresses":{}}', /no valid member id/],
      ['{"voters":["a"],"learners":[],"addresses":{"__proto__":"x"}}', /no member/],
      ['{"voters":["a"],"learners":[],"addresses":{"a":{"x":1}}}', /non-string address/],
      ['{"voters":["a","a"],"learners":[],"addresses":{}}', /twice/],
      ['{"voters":[""],"learners":[],"addresses":{}}', /no valid member id/],
    ] as const) {
      expect(() => decodeSnapshotFile(withConf(json), 'f'), json).toThrow(
        expect.objectContaining({ code: SnapshotErrorCode.Corrupt, message: expect.stringMatching(why) }),
      );
    }
  });
});

describe('FileSnapshotStore', () => {
  it('starts empty, saves durably, and a reopen loads the newest snapshot', async () => {
    const s = await openSnapshotStore(dir);
    expect(s.load()).toBeNull();
    await saved(s, meta(10), bytes(1000));
    expect(s.load()?.meta).toEqual(meta(10));
    await s.close();
    const again = await openSnapshotStore(dir);
    expect(again.load()).toEqual({ meta: meta(10), chunks: [bytes(1000)] });
  });

  it('streams a snapshot larger than one save chunk: the file equals encodeSnapshotFile', async () => {
    const s = await openSnapshotStore(dir);
    const big = bytes(9 * 1024 * 1024 + 13, 5);
    await saved(s, meta(77), big);
    const file = readFileSync(join(dir, snapshotFileName(meta(77))));
    expect(Buffer.compare(file, Buffer.from(encodeSnapshotFile(meta(77), big)))).toBe(0);
    expect((await openSnapshotStore(dir)).load()?.chunks[0]?.length).toBe(big.length);
  });

  it('saves a snapshot given as chunks as the file of their concatenation, and keeps the chunks', async () => {
    const s = await openSnapshotStore(dir);
    const whole = bytes(5 * 1024 * 1024 + 7, 3);
    const chunks = [
      whole.subarray(0, 3),
      new Uint8Array(0),
      whole.subarray(3, 4_500_000),
      whole.subarray(4_500_000),
    ];
    await saved(s, meta(78), chunks);
    const file = readFileSync(join(dir, snapshotFileName(meta(78))));
    expect(Buffer.compare(file, Buffer.from(encodeSnapshotFile(meta(78), whole)))).toBe(0);
    expect(Buffer.compare(file, Buffer.from(encodeSnapshotFile(meta(78), chunks)))).toBe(0);
    expect(s.load()?.chunks).toBe(chunks);
    const again = (await openSnapshotStore(dir)).load()!;
    expect(again.meta).toEqual(meta(78));
    expect(again.chunks).toHaveLength(1);
    expect(Buffer.compare(again.chunks[0]!, whole)).toBe(0);
  });

  it('keeps only the newest file, and never goes back to an older index', async () => {
    const s = await openSnapshotStore(dir);
    await saved(s, meta(10), bytes(10, 1));
    await saved(s, meta(20, 3), bytes(10, 2));
    await saved(s, meta(15), bytes(10, 3)); // older than the latest: discarded
    expect(readdirSync(dir)).toEqual([snapshotFileName(meta(20, 3))]);
    expect(s.load()).toEqual({ meta: meta(20, 3), chunks: [bytes(10, 2)] });
  });

  it('deletes a torn .tmp and stale older files left by a crash at open', async () => {
    const s = await openSnapshotStore(dir);
    await saved(s, meta(30), bytes(50));
    writeFileSync(join(dir, `${snapshotFileName(meta(40))}.tmp`), bytes(7));
    writeFileSync(join(dir, snapshotFileName(meta(5))), encodeSnapshotFile(meta(5), bytes(3)));
    const again = await openSnapshotStore(dir);
    expect(again.load()?.meta.index).toBe(30);
    expect(readdirSync(dir)).toEqual([snapshotFileName(meta(30))]);
  });

  it('refuses to open over a damaged newest snapshot, naming the file', async () => {
    const s = await openSnapshotStore(dir);
    await saved(s, meta(30), bytes(500));
    const path = join(dir, snapshotFileName(meta(30)));
    const raw = readFileSync(path);
    raw[200]! ^= 0xff;
    writeFileSync(path, raw);
    await expect(openSnapshotStore(dir)).rejects.toMatchObject({
      code: SnapshotErrorCode.Corrupt,
      message: expect.stringContaining(path),
    });
  });

  it('receives a snapshot in chunks and saves it only on finish', async () => {
    const s = await openSnapshotStore(dir);
    const data = bytes(3000, 9);
    const sink = s.receive(meta(50, 4), data.length);
    sink.write(0, data.subarray(0, 1000));
    sink.write(1000, data.subarray(1000, 2500));
    expect(() => sink.write(3000, data.subarray(0, 1))).toThrow(/does not continue 2500/);
    sink.write(2500, data.subarray(2500));
    expect(s.load()).toBeNull();
    expect(existsSync(join(dir, snapshotFileName(meta(50, 4))))).toBe(false);
    await new Promise<void>((resolve, reject) => sink.finish((err) => (err ? reject(err) : resolve())));
    expect((await openSnapshotStore(dir)).load()).toEqual({ meta: meta(50, 4), chunks: [data] });
  });

  it('an aborted or short transfer saves nothing', async () => {
    const s = await openSnapshotStore(dir);
    const short = s.receive(meta(60), 10);
    short.write(0, bytes(5));
    const err = await new Promise<Error | null>((resolve) => short.finish(resolve));
    expect(err).toMatchObject({ code: SnapshotErrorCode.InvalidArgument });
    const aborted = s.receive(meta(61), 3);
    aborted.write(0, bytes(3));
    aborted.abort();
    expect(await new Promise<Error | null>((resolve) => aborted.finish(resolve))).not.toBeNull();
    expect(s.load()).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed write is fatal: later saves report the same error', async () => {
    const s = await openSnapshotStore(dir);
    rmSync(dir, { recursive: true, force: true }); // the directory vanished under the member
    const first = await new Promise<Error | null>((resolve) => s.save(meta(1), [bytes(4)], resolve));
    expect(first).toMatchObject({ code: SnapshotErrorCode.WriteFailed });
    const second = await new Promise<Error | null>((resolve) => s.save(meta(2), [bytes(4)], resolve));
    expect(second).toBe(first);
  });
});
