import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { zmqCapabilities } from '../src/index.js';

describe('zeromq', () => {
  it('loads the native library with CURVE support', () => {
    const caps = zmqCapabilities();
    expect(caps.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(caps.curve).toBe(true);
  });

  it('routes a DEALER message to a ROUTER on 127.0.0.1 and back', async () => {
    const router = new zmq.Router({ linger: 0 });
    await router.bind('tcp://127.0.0.1:0');
    const dealer = new zmq.Dealer({ routingId: 'n2', linger: 0 });
    dealer.connect(router.lastEndpoint!);
    try {
      await dealer.send('ping');
      const [from, body] = await router.receive();
      expect(from!.toString()).toBe('n2');
      expect(body!.toString()).toBe('ping');
      await router.send([from!, 'pong']);
      const [reply] = await dealer.receive();
      expect(reply!.toString()).toBe('pong');
    } finally {
      dealer.close();
      router.close();
    }
  });
});
