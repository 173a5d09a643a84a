import type { PartitionShape } from './schedule.js';

/** A directed link between members, by index: `from` sends to `to` over it. */
export interface Link {
  readonly from: number;
  readonly to: number;
}

export const linkName = (l: Link): string => `n${l.from + 1}->n${l.to + 1}`;

/** Every directed link of an n-member cluster. */
export function allLinks(nodes: number): Link[] {
  const out: Link[] = [];
  for (let from = 0; from < nodes; from++)
    for (let to = 0; to < nodes; to++) if (from !== to) out.push({ from, to });
  return out;
}

/** Both directions of every link between the two groups. */
function between(a: readonly number[], b: readonly number[]): Link[] {
  const out: Link[] = [];
  for (const x of a)
    for (const y of b) {
      out.push({ from: x, to: y });
      out.push({ from: y, to: x });
    }
  return out;
}

/**
 * The links a partition cuts, with the leader (an index, or null when none is known) resolved.
 * Returns null for shapes that are not cuts (`slow`, `flaky`), and an empty list when the shape
 * needs a leader and there is none.
 */
export function cutLinks(shape: PartitionShape, nodes: number, leader: number | null): Link[] | null {
  const everyone = Array.from({ length: nodes }, (_v, i) => i);
  const rest = (xs: readonly number[]): number[] => everyone.filter((i) => !xs.includes(i));
  switch (shape.kind) {
    case 'split':
      return between(shape.minority, rest(shape.minority));
    case 'isolate-leader':
      return leader === null ? [] : between([leader], rest([leader]));
    case 'bridge':
      return between(shape.left, shape.right);
    case 'asymmetric': {
      const m = shape.member.kind === 'leader' ? leader : shape.member.index;
      if (m === null) return [];
      return rest([m]).map((o) => (shape.direction === 'out' ? { from: m, to: o } : { from: o, to: m }));
    }
    case 'slow':
    case 'flaky':
      return null;
  }
}
