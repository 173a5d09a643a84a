import { describe, expect, it } from 'vitest';
import { parseAddress, parsePeers } from '../src/index.js';

describe('parsePeers', () => {
  it('parses ids with IPv4, hostnames and bracketed IPv6', () => {
    expect(parsePeers('n1=127.0.0.1:7001, n2=localhost:7002,n3=[::1]:7003')).toEqual({
      ok: true,
      value: [
        { id: 'n1', host: '127.0.0.1', port: 7001 },
        { id: 'n2', host: 'localhost', port: 7002 },
        { id: 'n3', host: '::1', port: 7003 },
      ],
    });
  });

  it.each([
    ['', 'the peer list is empty'],
    ['n1', "malformed peer 'n1'"],
    ['n1=127.0.0.1', 'malformed address'],
    ['n1=127.0.0.1:70000', 'out of range'],
    ['n1=a:1,n1=b:2', 'appears twice'],
    ['n 1=a:1', 'member id "n 1" is invalid'],
    ['__proto__=a:1', 'member id "__proto__" is invalid'],
    ['n1=a:1,-x=b:2', 'member id "-x" is invalid'],
  ])('rejects %j with a clear message', (input, message) => {
    const r = parsePeers(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('parseAddress rejects port 0', () => {
    expect(parseAddress('h:0').ok).toBe(false);
  });
});
