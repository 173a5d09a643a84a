import { expect } from 'vitest';
import { ConfigError, parseNodeConfig } from '../../src/config.js';

/** The flags every configuration test starts from: a member n1 of a two-member cluster. */
export const base = [
  '--id',
  'n1',
  '--peers',
  'n1=127.0.0.1:7001,n2=127.0.0.1:7002',
  '--client-bind',
  '127.0.0.1:8001',
  '--data-dir',
  '/tmp/x',
];

/** The message of the ConfigError that parsing `argv` (with `env`) throws; fails the test otherwise. */
export function error(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseNodeConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
