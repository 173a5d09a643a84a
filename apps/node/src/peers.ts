import { InvalidMemberIdError, isValidMemberId } from '@keel/core';

export interface PeerAddress {
  readonly id: string;
  readonly host: string;
  readonly port: number;
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
