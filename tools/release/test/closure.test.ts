import { describe, expect, it } from 'vitest';
import { publicPackages, runtimeClosure, workspaceRoot } from '../src/index.js';

describe('runtimeClosure', () => {
  it('is what npm install @keel/cli brings: the member program and libraries, not bench or chaos', () => {
    const names = runtimeClosure('@keel/cli', publicPackages(workspaceRoot())).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        '@keel/cli',
        '@keel/core',
        '@keel/kv',
        '@keel/node',
        '@keel/ops',
        '@keel/transport-zmq',
      ]),
    );
    expect(names).not.toContain('@keel/bench');
    expect(names).not.toContain('@keel/chaos');
  });
});
