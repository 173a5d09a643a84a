import type { NodeId } from '@keel/core';
import { type Address, parseAddress, parsePeers, tcpEndpoint } from './addresses.js';
import { ConfigError } from './errors.js';
import { decodeMemberAddresses } from './membership.js';

/**
 * TEST ONLY. With `KEEL_TEST_PEER_ROUTES=id=host:port,...` set, this member dials the named
 * members at those addresses, whatever address the Raft configuration carries for them.
 *
 * The configuration holds one peer address per member, replicated to everyone in Config entries and
 * snapshots. `keel chaos` puts a TCP proxy on every directed link, so member i reaches j at an
 * address only i may use. Without routes, the first Config entry (or snapshot) would hand every
 * follower the leader's view: the followers would dial the leader at its real port, past the
 * proxies, and each other through the leader's links, and the nemesis would cut the wrong links.
 */
export function peerRoutes(env: Readonly<Record<string, string | undefined>>): ReadonlyMap<NodeId, Address> {
  const text = env.KEEL_TEST_PEER_ROUTES;
  if (text === undefined || text.trim() === '') return new Map();
  const parsed = parsePeers(text);
  if (!parsed.ok) throw new ConfigError(`KEEL_TEST_PEER_ROUTES: ${parsed.message}`);
  return new Map(parsed.value.map((p) => [p.id, { host: p.host, port: p.port }]));
}

/**
 * The transport's view of a configuration: each member's `tcp://` endpoint from its routed address,
 * else from the peer address the configuration carries; '' when neither is usable (the transport
 * then keeps the address it knows).
 */
export function dialAddresses(
  members: ReadonlyMap<NodeId, string>,
  routes: ReadonlyMap<NodeId, Address>,
): Map<NodeId, string> {
  const out = new Map<NodeId, string>();
  for (const [id, text] of members) {
    const routed = routes.get(id);
    if (routed !== undefined) {
      out.set(id, tcpEndpoint(routed));
      continue;
    }
    const parsed = parseAddress(decodeMemberAddresses(text).peer);
    out.set(id, parsed.ok ? tcpEndpoint(parsed.value) : '');
  }
  return out;
}
