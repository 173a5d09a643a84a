import { describe, expect, it } from 'vitest';
import { basePortProblem } from '../src/cluster/ports.js';

// The port scheme itself (memberPorts, portFree, busyPorts) is @keel/ops's and tested there.
describe('base port', () => {
  it('refuses base ports below 1024 or too high for the cluster size', () => {
    expect(basePortProblem(7100, 7)).toBeNull();
    expect(basePortProblem(80, 3)).toBe('--base-port must be an integer of at least 1024');
    expect(basePortProblem(65328, 7)).toBeNull();
    expect(basePortProblem(65330, 7)).toBe('--base-port 65330 is too high: member n7 would need port 65537');
  });
});
