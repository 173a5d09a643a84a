import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, precreate } from './metricKit.js';

/** Why a proposal failed: the outcomes of `RaftNode.propose` that are not `ok`, and the server's own timeout. */
export const PROPOSAL_FAILURES = ['not-leader', 'proposal-dropped', 'stopped', 'timeout'] as const;
const READ_CONSISTENCIES = ['linearizable', 'lease', 'stale'] as const;

/** Client requests served by one member, and the proposals they made. */
export class RequestMetrics {
  readonly clientRequests: Counter;
  readonly reads: Counter;
  readonly proposals: Counter;
  /** Commands proposed with no outcome yet: a plain count, read into its gauge at scrape time. */
  pending = 0;
  readonly proposalsPending: Gauge;
  /** Long polls (watches) held until there is something to answer: a plain count, like `pending`. */
  waiting = 0;
  readonly requestsWaiting: Gauge;
  readonly proposalsFailed: Counter;
  readonly commitLatency: Histogram;

  /** `requestLabels`: the service's request labels, when a closed set (their series exist from start). */
  constructor(r: Registry, requestLabels: readonly string[]) {
    this.clientRequests = counter(r, 'keel_client_requests_total', 'Client requests received', ['kind']);
    precreate(this.clientRequests, 'kind', requestLabels);
    this.reads = counter(r, 'keel_reads_total', 'Reads served', ['consistency']);
    precreate(this.reads, 'consistency', READ_CONSISTENCIES);
    this.proposals = counter(r, 'keel_proposals_total', 'Commands proposed by this member as leader');
    this.proposalsPending = gauge(
      r,
      'keel_server_proposals_pending',
      'Commands this member proposed that have no outcome yet',
      [],
      () => this.pending,
    );
    this.requestsWaiting = gauge(
      r,
      'keel_server_requests_waiting',
      'Long polls (watch polls) held until the member applies something they wait for',
      [],
      () => this.waiting,
    );
    this.proposalsFailed = counter(
      r,
      'keel_server_proposals_failed_total',
      'Proposals that failed, by reason (not-leader, proposal-dropped, stopped, timeout)',
      ['reason'],
    );
    precreate(this.proposalsFailed, 'reason', PROPOSAL_FAILURES);
    this.commitLatency = histogram(
      r,
      'keel_commit_latency_seconds',
      'Proposal to applied on the leader',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    );
  }
}
