import { InvalidMemberIdError, isValidMemberId } from '@keel/core';

/** A host and port to bind or dial (IPv6 hosts without brackets). */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A member id with an address: one entry of a peer list. */
export interface PeerAddress extends Address {
  readonly id: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Parses `host:port` (IPv6 in brackets), as used in peer lists and bind/advertise flags. */
export function parseAddress(text: string): ParseResult<{ host: string; port: number }> {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return { ok: false, message: `malformed address '${text}': expected host:port` };
  const port = Number(m[3]);
  if (port < 1 || port > 65535)
    return { ok: false, message: `port ${port} in '${text}' is out of range 1-65535` };
  return { ok: true, value: { host: (m[1] ?? m[2])!, port } };
}

/** Parses a peer list `id=host:port,id=host:port` (the `--peers` flag). */
export function parsePeers(text: string): ParseResult<PeerAddress[]> {
  const peers: PeerAddress[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, message: `malformed peer '${part}': expected id=host:port` };
    const id = part.slice(0, eq);
    if (!isValidMemberId(id)) return { ok: false, message: new InvalidMemberIdError(id).message };
    if (seen.has(id)) return { ok: false, message: `member id '${id}' appears twice in the peer list` };
    seen.add(id);
    const addr = parseAddress(part.slice(eq + 1));
    if (!addr.ok) return addr;
    peers.push({ id, ...addr.value });
  }
  if (peers.length === 0) return { ok: false, message: 'the peer list is empty' };
  return { ok: true, value: peers };
}

/** `host:port`, IPv6 hosts in brackets: how addresses are shown and advertised. */
export function hostPort(a: Address): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** `tcp://host:port` (IPv6 hosts in brackets), as ZeroMQ names an endpoint. */
export function tcpEndpoint(a: Address): string {
  return `tcp://${hostPort(a)}`;
}
