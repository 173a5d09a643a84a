import type { Dashboard } from '@keel/dashboard';
import type { Io } from '../io.js';

export interface ClusterDashboardOptions {
  readonly dir: string;
  readonly io: Io;
  /** The port to listen on (0: any free one). */
  readonly port: number;
  /** When `port` is taken, take any free one instead of failing (the default port, not one asked for). */
  readonly fallback?: boolean;
  readonly host?: string;
}

/**
 * Serves the web dashboard of the cluster in `dir` from this process. @keel/dashboard and the
 * adapters load here, on first use, so commands that do not serve it stay fast to start.
 */
export async function startClusterDashboard(o: ClusterDashboardOptions): Promise<Dashboard> {
  const [{ startDashboard }, { clusterSource }, { cliActions }, { openClusterKv }] = await Promise.all([
    import('@keel/dashboard'),
    import('./source.js'),
    import('./actions.js'),
    import('./kv.js'),
  ]);
  const options = {
    host: o.host ?? '127.0.0.1',
    source: clusterSource(o.dir),
    actions: cliActions(o.dir, o.io),
    openKv: () => openClusterKv(o.dir, o.io),
  };
  try {
    return await startDashboard({ ...options, port: o.port });
  } catch (err) {
    if (o.port === 0 || o.fallback !== true || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE')
      throw err;
    return startDashboard({ ...options, port: 0 });
  }
}
