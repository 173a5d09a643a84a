import { type Address, hostPort } from './addresses.js';

/**
 * A mistake in the options (or the data dir belongs to another member): nothing the environment
 * can fix. `keel node` prints it and exits 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'KEEL_CONFIG';
}

/** A startup failure caused by the environment (port in use, unwritable or foreign data dir, corrupt WAL). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Names a failed bind the way an operator fixes it. */
export function bindError(what: string, a: Address, err: unknown): StartupError {
  const e = err as { code?: string; errno?: number; message?: string };
  const msg = e.message ?? String(err);
  if (e.code === 'EADDRINUSE' || /in use/i.test(msg)) {
    return new StartupError('KEEL_PORT_IN_USE', `${what} address ${hostPort(a)} is already in use`);
  }
  if (e.code === 'EADDRNOTAVAIL' || /not available|assign requested/i.test(msg)) {
    return new StartupError(
      'KEEL_BAD_ADDRESS',
      `${what} address ${hostPort(a)} is not an address of this host`,
    );
  }
  return new StartupError('KEEL_BIND_FAILED', `cannot listen on ${what} address ${hostPort(a)}: ${msg}`);
}
