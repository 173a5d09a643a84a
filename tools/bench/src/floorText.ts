/** The measured floor (floor.ts) in the text summary and the HTML report. */
import type { FloorReport } from './floor.js';
import { escapeHtml } from './svg.js';
import type { StepResult } from './throughput.js';

const ms = (v: number): string => v.toFixed(3);

/** One line: the fsync round, the round trip and the floor they make; null without a floor. */
export function floorLine(f: FloorReport | null | undefined): string | null {
  if (f === null || f === undefined) return null;
  const parts: string[] = [];
  if (f.fsync !== null && f.fsync.rounds > 0) {
    parts.push(
      `write+fdatasync of ${f.fsync.bytes_per_write} B in ${f.fsync.dirs} data dirs at once: p50 ${ms(f.fsync.round_ms.p50)} ms, p99 ${ms(f.fsync.round_ms.p99)} ms (${f.fsync.rounds} rounds, ${f.fsync.cpu_us_per_sync} µs CPU each)`,
    );
  }
  if (f.rtt !== null && f.rtt.round_trips > 0) {
    parts.push(
      `ZeroMQ round trip ${f.rtt.bytes} B: p50 ${ms(f.rtt.rtt_ms.p50)} ms, p99 ${ms(f.rtt.rtt_ms.p99)} ms (${f.rtt.round_trips})`,
    );
  }
  const total = f.floor_ms === null ? 'n/a' : `${ms(f.floor_ms)} ms`;
  return `floor (fsync p50 + 2 RTT p50) ${total}: ${parts.join('; ')}`;
}

/** The step's cells for the floor multiple and the CPU per operation (members, clients). */
export function floorCells(s: StepResult): string[] {
  const x = s.floor_multiple;
  const cpu = s.cpu_us_per_op;
  const us = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));
  return [x === null || x === undefined ? '-' : `${x.toFixed(2)}x`, us(cpu?.members), us(cpu?.clients)];
}

export const FLOOR_HEADS = ['p50/floor', 'cpu µs/op members', 'cpu µs/op clients'] as const;

export function floorHtml(f: FloorReport | null | undefined): string {
  const line = floorLine(f);
  return line === null ? '' : `<p><strong>Floor, same run.</strong> ${escapeHtml(line)}</p>`;
}
