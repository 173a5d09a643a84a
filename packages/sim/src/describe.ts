import type { Entry, Message, Ready } from '@keel/core';

/** Virtual milliseconds, fixed width so that trace lines align. */
export function formatTime(ms: number): string {
  return ms.toFixed(3).padStart(11);
}

function entryRange(entries: readonly Entry[]): string {
  if (entries.length === 0) return '[]';
  const a = entries[0]!;
  const b = entries[entries.length - 1]!;
  return entries.length === 1 ? `[${a.index}@${a.term}]` : `[${a.index}@${a.term}..${b.index}@${b.term}]`;
}

/** One message as a short line: `n1→n2 app t3 prev=4@2 [5@3..6@3] commit=4`. */
export function describeMessage(m: Message): string {
  const head = `${m.from}→${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} prev=${m.prevIndex}@${m.prevTerm} ${entryRange(m.entries)} commit=${m.commit}`;
    case 'appResp':
      return m.reject
        ? `${head} reject index=${m.index} hint=${m.hintIndex}@${m.hintTerm}`
        : `${head} ok index=${m.index}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastIndex}@${m.lastTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResp':
    case 'preVoteResp':
      return `${head} ${m.reject ? 'reject' : 'grant'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context !== 0 ? ` ctx=${m.context}` : ''}`;
    case 'heartbeatResp':
      return m.context !== 0 ? `${head} ctx=${m.context}` : head;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${m.context}`;
    case 'readIndexResp':
      return `${head} ctx=${m.context} index=${m.index}${m.reject ? ' reject' : ''}`;
    case 'snapshot':
      return `${head} snap=${m.meta.index}@${m.meta.term} voters=${m.meta.conf.voters.join(',')}`;
    case 'snapChunk':
      return `${head} snap=${m.meta.index}@${m.meta.term} [${m.offset},${m.offset + m.data.length})/${m.total}`;
    case 'snapAck':
      return `${head} snap=${m.index}@${m.snapTerm} next=${m.next}${m.reject ? ' reject' : ''}`;
  }
}

/** The parts of a Ready that change state, or '' when it only carries messages. */
export function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState !== null) {
    const s = rd.softState;
    parts.push(`${s.role} t${s.term}${s.leader !== null ? ` leader=${s.leader}` : ''}`);
  }
  if (rd.hardState !== null) {
    const h = rd.hardState;
    parts.push(`hs{t${h.term} vote=${h.vote ?? '-'} commit=${h.commit}}`);
  }
  if (rd.snapshot !== null) parts.push(`install snapshot ${rd.snapshot.index}@${rd.snapshot.term}`);
  if (rd.entries.length > 0) parts.push(`append ${entryRange(rd.entries)}`);
  if (rd.conf !== null) {
    const c = rd.conf;
    parts.push(
      `conf{voters=${c.voters.join(',')}${c.learners.length > 0 ? ` learners=${c.learners.join(',')}` : ''}}`,
    );
  }
  if (rd.committed.length > 0) parts.push(`commit ${entryRange(rd.committed)}`);
  return parts.length === 0 ? '' : `ready#${rd.number} ${parts.join(' ')}`;
}
