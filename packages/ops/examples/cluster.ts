// Three `keel node` members on 127.0.0.1, started, watched until they agree on a leader, and
// stopped by PID. Run from the repository root after `pnpm build`:
//   node --conditions=source --import tsx packages/ops/examples/cluster.ts apps/node/dist/main.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  addressList,
  fetchStatus,
  freeBasePort,
  LOOPBACK,
  launchMember,
  memberCommand,
  memberPorts,
  stopPids,
  waitFor,
} from '@keel/ops';

const program = process.argv[2];
if (program === undefined) throw new Error('usage: cluster.ts <path to apps/node/dist/main.js>');

const dir = mkdtempSync(join(tmpdir(), 'keel-ops-example-'));
const base = await freeBasePort(3);
const ids = ['n1', 'n2', 'n3'];
const at = (i: number, kind: 'peer' | 'client' | 'http'): string =>
  `${LOOPBACK}:${memberPorts(base, i + 1)[kind]}`;
const peers = addressList(ids, (_id, i) => at(i, 'peer'));
const clients = addressList(ids, (_id, i) => at(i, 'client'));

const members = ids.map((id, i) => {
  const dataDir = join(dir, id);
  const command = memberCommand({
    program: resolve(program),
    id,
    peers,
    clients,
    http: at(i, 'http'),
    dataDir,
  });
  return launchMember({ id, command, cwd: dataDir, output: { logFile: join(dataDir, 'member.log') } });
});

try {
  const leader = await waitFor(
    'a leader every member names',
    async () => {
      const all = await Promise.all(ids.map((_id, i) => fetchStatus(at(i, 'http'))));
      const named = all[0]?.leader;
      return named != null && all.every((s) => s?.leader === named) ? named : undefined;
    },
    20_000,
  );
  console.log(`members ${members.map((m) => m.pid).join(', ')} agree: ${leader} leads`);
} finally {
  await stopPids(
    members.map((m) => m.pid),
    3000,
  );
  rmSync(dir, { recursive: true, force: true });
}
