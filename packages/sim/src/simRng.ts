import { SeededRng } from '@keel/core';

/**
 * Independent random streams from one run seed. Each part of the simulation (network, nemesis,
 * workload, every node incarnation) draws from its own stream, so a change in how often one part
 * draws does not shift what the others see.
 */
export function deriveSeed(seed: number, ...stream: readonly number[]): number {
  // Seeds may be any safe integer: fold the high bits in before mixing.
  let h = mix32((seed >>> 0) ^ mix32(Math.floor(seed / 0x1_0000_0000) >>> 0));
  for (const s of stream) h = mix32(h ^ mix32((s >>> 0) + 0x9e3779b9));
  return h;
}

export function streamRng(seed: number, ...stream: readonly number[]): SeededRng {
  return new SeededRng(deriveSeed(seed, ...stream));
}

/** murmur3's finalizer: a bijection on 32-bit integers with good avalanche. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Streams used by the simulator (one constant per consumer keeps derivations stable). */
export const Stream = {
  Network: 1,
  Nemesis: 2,
  Workload: 3,
  Disk: 4,
  Node: 5,
  Config: 6,
  Clock: 7,
  Membership: 8,
  Snapshot: 9,
  Handover: 10,
} as const;

/** A float in [lo, hi). */
export function uniform(rng: SeededRng, lo: number, hi: number): number {
  return lo + rng.float() * (hi - lo);
}

export function pick<T>(rng: SeededRng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[rng.int(items.length)]!;
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(rng: SeededRng, items: readonly T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** True with probability p. */
export function chance(rng: SeededRng, p: number): boolean {
  return p > 0 && rng.float() < p;
}
