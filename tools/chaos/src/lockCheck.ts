/**
 * Lock safety under chaos: two holders never overlap. Holders of one `Lock` write the owner key
 * only through a transaction fenced by their token (`compare: [{ key: held.key, createRevision:
 * held.revision }]`), each value `<token>:<client>:<seq>`. Every later holder has a larger token,
 * so in the committed history of the owner key (the watch stream, in revision order) the tokens
 * must never go down: the writes form one block per holder, in increasing token order. A write of
 * token r after one of r' > r is a holder writing after it lost the lock to a later one.
 */

export interface LockCheck {
  readonly ok: boolean;
  /** Committed fenced writes, and distinct holders among them. */
  readonly writes: number;
  readonly holders: number;
  readonly problems: readonly string[];
}

/** `values`: the owner key's committed values, in revision order, with their revisions. */
export function checkFencedWrites(
  values: readonly { readonly revision: number; readonly value: string }[],
): LockCheck {
  const problems: string[] = [];
  const holders = new Set<number>();
  let last: { token: number; revision: number; value: string } | null = null;
  for (const { revision, value } of values) {
    const token = Number(value.split(':', 1)[0]);
    if (!Number.isSafeInteger(token)) {
      problems.push(`owner@${revision}: ${JSON.stringify(value)} carries no fencing token`);
      continue;
    }
    holders.add(token);
    if (last !== null && token < last.token && problems.length < 20) {
      problems.push(
        `owner@${revision}: ${JSON.stringify(value)} written after ${JSON.stringify(last.value)} (@${last.revision}): a holder wrote after a later holder took the lock`,
      );
    }
    if (last === null || token >= last.token) last = { token, revision, value };
  }
  return { ok: problems.length === 0, writes: values.length, holders: holders.size, problems };
}
