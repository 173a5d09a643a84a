import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BenchIo } from '../src/main.js';

export function tempDir(tag: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `keel-bench-test-${tag}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function captureIo(): { io: BenchIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { out: (t) => (out += t), err: (t) => (err += t), isTTY: false },
    out: () => out,
    err: () => err,
  };
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The documented fields of one throughput step (tools/bench/README.md), with sane values. */
export function expectStepSchema(step: Record<string, unknown>, nodes: number): void {
  for (const k of [
    'step',
    'nodes',
    'concurrency',
    'value_size',
    'read_ratio',
    'ops',
    'ops_per_sec',
    'errors',
    'retries',
  ]) {
    expect(isNum(step[k]), `${k} is a number`).toBe(true);
  }
  expect(step.nodes).toBe(nodes);
  expect(step.ops_per_sec as number).toBeGreaterThan(0);
  expect(step.ops as number).toBeGreaterThan(0);
  // A leader change on a busy machine may fail a few operations; most must succeed.
  expect(step.errors as number).toBeLessThan((step.ops as number) / 10);
  const lat = step.latency_ms as Record<string, number>;
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean'])
    expect(isNum(lat[k]), `latency_ms.${k}`).toBe(true);
  expect(lat.p50).toBeGreaterThan(0);
  expect(lat.p50).toBeLessThanOrEqual(lat.p90!);
  expect(lat.p90).toBeLessThanOrEqual(lat.p99!);
  expect(lat.p99).toBeLessThanOrEqual(lat.p999!);
  expect(lat.p999).toBeLessThanOrEqual(lat.max!);
  expect(lat.max).toBeLessThan(10_000);
  const cdf = step.latency_cdf as [number, number][];
  expect(cdf.length).toBeGreaterThan(0);
  expect(cdf[cdf.length - 1]![1]).toBeCloseTo(1, 6);
  expect(typeof step.leader).toBe('string');
  const members = step.members as Record<string, unknown>[];
  expect(members).toHaveLength(nodes);
  for (const m of members) {
    expect(typeof m.id).toBe('string');
    expect(isNum(m.cpu_percent), 'member cpu_percent').toBe(true);
    expect(m.rss_mb as number).toBeGreaterThan(1);
  }
  const clients = step.clients as Record<string, unknown>[];
  expect(clients.length).toBeGreaterThan(0);
  for (const c of clients) {
    expect(isNum(c.pid)).toBe(true);
    expect(c.rss_mb as number).toBeGreaterThan(1);
  }
}
