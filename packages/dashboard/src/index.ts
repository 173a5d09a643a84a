// @keel/dashboard: a live web page for a local Keel cluster. It reads the cluster through a
// ClusterSource and changes it through DashboardActions (both injected: apps/cli implements them
// over its cluster file and its commands), so this package knows no launcher and no app.
export type { ActionName } from './actions.js';
export { ACTION_NAMES, DESTRUCTIVE } from './actions.js';
export { TOKEN_HEADER } from './guard.js';
export type { Dashboard, DashboardOptions } from './server.js';
export { startDashboard } from './server.js';
export type {
  ActionResult,
  ClusterSource,
  DashboardActions,
  DashboardKv,
  DashboardLogger,
  LoadPoint,
  LoadView,
  MemberRef,
  MemberView,
  Snapshot,
  TimelineEvent,
} from './types.js';
export { ProcessState } from './types.js';
export type { LoadSettings } from './WriteLoad.js';
export { LOAD_LIMITS } from './WriteLoad.js';
