import type { RaftConfig } from './config.js';

/**
 * Deliberate bugs, for tests that prove the simulator's checks can fail. They are not part of the
 * public `RaftConfig`: only `@keel/core/testing` exports `RaftTestingConfig`, the config that
 * carries them. Never set in production.
 * - commitOldTermByCounting: commit any index a quorum holds, ignoring Figure 8's term rule.
 * - doubleVote: grant a vote even after voting for someone else in the same term.
 * - skipConfCommitCheck: accept a configuration change while another is still uncommitted.
 * - countLearnerVotes: learners answer vote requests and their grants count toward the quorum.
 * - noHandOverAfterSnapshot: issue #15's first transfer bug, no TimeoutNow when the target
 *   catches up by InstallSnapshot.
 */
export interface TestingBugs {
  readonly commitOldTermByCounting?: boolean;
  readonly doubleVote?: boolean;
  readonly skipConfCommitCheck?: boolean;
  readonly countLearnerVotes?: boolean;
  readonly noHandOverAfterSnapshot?: boolean;
}

/** A `RaftConfig` with planted bugs: what the simulator and the planted-bug tests hand the engine. */
export interface RaftTestingConfig extends RaftConfig {
  readonly testingBugs?: TestingBugs;
}

const NO_BUGS: TestingBugs = Object.freeze({});

/** The planted bugs a config carries (none for a plain `RaftConfig`). */
export function testingBugsOf(config: RaftConfig): TestingBugs {
  return (config as RaftTestingConfig).testingBugs ?? NO_BUGS;
}
