import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { encodeMemberAddresses } from '../src/membership.js';
import { dialAddresses, peerRoutes } from '../src/peerRoutes.js';

const conf = (peer: string): string => encodeMemberAddresses({ peer, client: '', http: '' });

/** An id-keyed Map from literal test ids. */
const idMap = (o: { readonly [id: string]: string }): Map<string, string> => new Map(Object.entries(o));

describe('KEEL_TEST_PEER_ROUTES (per-link proxies in keel chaos)', () => {
  it('reads id=host:port routes and nothing when unset', () => {
    expect(peerRoutes({})).toEqual(new Map());
    expect(peerRoutes({ KEEL_TEST_PEER_ROUTES: ' ' })).toEqual(new Map());
    expect(peerRoutes({ KEEL_TEST_PEER_ROUTES: 'n1=127.0.0.1:9101,n3=[::1]:9103' })).toEqual(
      new Map([
        ['n1', { host: '127.0.0.1', port: 9101 }],
        ['n3', { host: '::1', port: 9103 }],
      ]),
    );
    expect(() => peerRoutes({ KEEL_TEST_PEER_ROUTES: 'n1=nowhere' })).toThrow(ConfigError);
    expect(() => peerRoutes({ KEEL_TEST_PEER_ROUTES: 'n1=nowhere' })).toThrow(/^KEEL_TEST_PEER_ROUTES: /);
  });

  it("keeps dialing routed members at their route when a Config entry carries the leader's view", () => {
    // n2's proxies: n2->n1 at 9201, n2->n3 at 9203. The leader n1 proposed a change: its entry
    // carries n1's own real port and n1's proxy for n3 (link n1->n3), which n2 must not use.
    const routes = peerRoutes({ KEEL_TEST_PEER_ROUTES: 'n1=127.0.0.1:9201,n3=127.0.0.1:9203' });
    const fromLeader = idMap({ n1: conf('127.0.0.1:7001'), n3: conf('127.0.0.1:9103') });
    expect(dialAddresses(fromLeader, routes)).toEqual(
      idMap({
        n1: 'tcp://127.0.0.1:9201',
        n3: 'tcp://127.0.0.1:9203',
      }),
    );
    // Without routes the configuration's addresses win (production).
    expect(dialAddresses(fromLeader, new Map())).toEqual(
      idMap({
        n1: 'tcp://127.0.0.1:7001',
        n3: 'tcp://127.0.0.1:9103',
      }),
    );
  });

  it('dials a member without a route at its configured peer address, or leaves it unknown', () => {
    const routes = peerRoutes({ KEEL_TEST_PEER_ROUTES: 'n1=127.0.0.1:9201' });
    expect(
      dialAddresses(idMap({ n1: '', n4: conf('[::1]:7004'), n5: '', n6: 'host-6:7006' }), routes),
    ).toEqual(
      idMap({
        n1: 'tcp://127.0.0.1:9201',
        n4: 'tcp://[::1]:7004',
        n5: '',
        n6: 'tcp://host-6:7006',
      }),
    );
  });
});
