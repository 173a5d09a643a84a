/**
 * The largest index that a majority of `matches` has reached: sort descending, take the
 * (n/2)-th. With 3 voters [9, 5, 2] that is 5; a leader may commit it if its term is current.
 * `scratch` avoids an allocation per call on the hot path.
 */
export function quorumIndex(matches: readonly number[], scratch: number[] = []): number {
  const n = matches.length;
  if (n === 0) return 0;
  scratch.length = n;
  for (let i = 0; i < n; i++) scratch[i] = matches[i]!;
  // Insertion sort: voter sets are tiny (3, 5, 7) and this runs on every acknowledgement.
  for (let i = 1; i < n; i++) {
    const v = scratch[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! < v) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = v;
  }
  return scratch[Math.floor(n / 2)]!;
}

/** True once more than half of `total` voters are counted. */
export function isQuorum(count: number, total: number): boolean {
  return count > Math.floor(total / 2);
}
