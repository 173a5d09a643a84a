import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerBuildInfo } from './buildInfo.js';
import { DiskMetrics } from './diskMetrics.js';
import { counter, gauge, mirror } from './metricKit.js';
import { NetworkMetrics } from './networkMetrics.js';
import { RaftMetrics } from './raftMetrics.js';
import { RequestMetrics } from './requestMetrics.js';

/**
 * A gauge of the state machine's own (e.g. `keel_kv_keys`), read at every scrape; or, named
 * `*_total`, a counter mirroring a count the state machine keeps (e.g. `keel_lease_expired_total`),
 * which must never decrease while the member runs.
 */
export interface StateGauge {
  /** A metric name by the conventions: a unit suffix where there is one, `_total` for a counter. */
  readonly name: string;
  readonly help: string;
  readonly value: () => number;
}

/**
 * Prometheus metrics of one member, by group (one file each; the conventions in metricKit.ts).
 * Values that mirror engine, WAL and transport state are read at scrape time; the full list with
 * what each series means is in apps/node/README.md ("Metrics").
 */
export class NodeMetrics {
  readonly raft: RaftMetrics;
  readonly requests: RequestMetrics;
  readonly disk: DiskMetrics;
  readonly network: NetworkMetrics;

  /** `registry`: where to register (default: a new one); it gets the default label `node_id`. */
  constructor(
    labels: {
      readonly nodeId: string;
      /** The service's request labels, when a closed set: their series exist from start. */
      readonly requestLabels?: readonly string[];
      readonly stateGauges?: readonly StateGauge[];
    },
    readonly registry: Registry = new Registry(),
  ) {
    const r = this.registry;
    r.setDefaultLabels({ node_id: labels.nodeId });
    this.raft = new RaftMetrics(r);
    this.requests = new RequestMetrics(r, labels.requestLabels ?? []);
    this.disk = new DiskMetrics(r);
    this.network = new NetworkMetrics(r);
    registerBuildInfo(r);
    for (const g of labels.stateGauges ?? []) {
      if (!g.name.endsWith('_total')) {
        gauge(r, g.name, g.help, [], g.value);
        continue;
      }
      const c = counter(r, g.name, g.help);
      // Read at scrape time, like the gauges (prom-client calls `collect` before exporting).
      Object.assign(c, { collect: () => mirror(c, g.value()) });
    }
    // Node's process metrics, among them the event-loop lag (nodejs_eventloop_lag_max_seconds and
    // percentiles, sampled every 50 ms and reset at each scrape): how long the member stalled
    // between scrapes, e.g. while it encoded a snapshot. The sampling timer wakes the loop each
    // time: every 10 ms it was a third of an idle member's CPU (issue #20).
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 50 });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
