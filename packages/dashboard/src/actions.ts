import type { ActionResult, DashboardActions } from './types.js';

/** The page's actions by name, what each needs, and which ones the page confirms first. */
export const ACTION_NAMES = [
  'kill',
  'stop',
  'restart',
  'pause',
  'resume',
  'isolate',
  'heal',
  'transfer-leader',
  'add-member',
  'remove-member',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Destructive actions: the page asks before it sends them (and only these). */
export const DESTRUCTIVE: ReadonlySet<ActionName> = new Set(['kill', 'stop', 'remove-member']);

export interface ActionRequest {
  readonly action: ActionName;
  readonly id: string | null;
  readonly learner: boolean;
}

/** The request as an action, or a one-line reason to refuse it. */
export function parseAction(body: unknown): ActionRequest | string {
  if (typeof body !== 'object' || body === null) return 'expected a JSON object';
  const b = body as Record<string, unknown>;
  const action = b.action;
  if (typeof action !== 'string' || !(ACTION_NAMES as readonly string[]).includes(action))
    return `unknown action '${String(action)}' (expected ${ACTION_NAMES.join(', ')})`;
  const id = typeof b.id === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(b.id) ? b.id : null;
  if (action !== 'add-member' && id === null) return `action '${action}' needs a member id`;
  return { action: action as ActionName, id, learner: b.learner === true };
}

/** The names of the actions `actions` implements. */
export function offered(actions: DashboardActions): ActionName[] {
  return ACTION_NAMES.filter((n) => handler(actions, { action: n, id: 'x', learner: false }) !== null);
}

/** The function that runs a request, or null when this dashboard was given none for it. */
export function handler(actions: DashboardActions, r: ActionRequest): (() => Promise<ActionResult>) | null {
  const id = r.id ?? '';
  const call = (f: ((id: string) => Promise<ActionResult>) | undefined) =>
    f === undefined ? null : () => f.call(actions, id);
  switch (r.action) {
    case 'kill':
      return call(actions.kill);
    case 'stop':
      return call(actions.stop);
    case 'restart':
      return call(actions.restart);
    case 'pause':
      return call(actions.pause);
    case 'resume':
      return call(actions.resume);
    case 'isolate':
      return call(actions.isolate);
    case 'heal':
      return call(actions.heal);
    case 'transfer-leader':
      return call(actions.transferLeader);
    case 'remove-member':
      return call(actions.removeMember);
    case 'add-member': {
      const add = actions.addMember;
      return add === undefined ? null : () => add.call(actions, r.learner);
    }
  }
}

/** How the timeline names a request. */
export function describe(r: ActionRequest): string {
  if (r.action === 'add-member') return r.learner ? 'add a learner' : 'add a voter';
  return `${r.action} ${r.id}`;
}
