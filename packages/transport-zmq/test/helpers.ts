import type { Message, NodeId, PeerEvent, TransportHandlers } from '@keel/core';
import { PeerTransport, type PeerTransportOptions, type TransportLogger } from '../src/index.js';

/** Polls `condition` until it holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export class Recorder implements TransportHandlers {
  readonly messages: Message[] = [];
  readonly events: [NodeId, PeerEvent][] = [];
  onMessage: ((m: Message) => void) | null = null;

  message(msg: Message): void {
    this.messages.push(msg);
    this.onMessage?.(msg);
  }

  peer(peer: NodeId, event: PeerEvent): void {
    this.events.push([peer, event]);
  }

  last(peer: NodeId): PeerEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--)
      if (this.events[i]![0] === peer) return this.events[i]![1];
    return undefined;
  }
}

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

export function memoryLogger(): TransportLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

export interface Member {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly recorder: Recorder;
  readonly endpoint: string;
}

/** An id-keyed Map from literal test ids (tests only; src keeps ids out of object keys). */
export function idMap(entries: { readonly [id: string]: string }): Map<NodeId, string> {
  return new Map(Object.entries(entries));
}

/**
 * Starts one transport per id on ephemeral ports of 127.0.0.1 and connects them all to each other.
 * `options(id)` adds per-member options.
 */
export async function startCluster(
  ids: readonly NodeId[],
  options: (id: NodeId) => Partial<PeerTransportOptions> = () => ({}),
): Promise<Member[]> {
  const transports = ids.map((id) => new PeerTransport({ id, bind: 'tcp://127.0.0.1:0', ...options(id) }));
  const endpoints = await Promise.all(transports.map((t) => t.listen()));
  const members = ids.map((id, i) => ({
    id,
    transport: transports[i]!,
    recorder: new Recorder(),
    endpoint: endpoints[i]!,
  }));
  for (const m of members) {
    for (const other of members) if (other.id !== m.id) m.transport.addPeer(other.id, other.endpoint);
    await m.transport.start(m.recorder);
  }
  return members;
}

export async function closeAll(members: readonly { transport: { close(): Promise<void> } }[]): Promise<void> {
  await Promise.all(members.map((m) => m.transport.close()));
}

/** Waits until every member reports every other one connected. */
export async function waitConnected(members: readonly Member[]): Promise<void> {
  await waitFor(
    () =>
      members.every((m) =>
        members.every((o) => o.id === m.id || m.transport.peerStates().get(o.id) === 'connected'),
      ),
    'all peers connected',
  );
}
