// A read-only dashboard for members you started yourself: pass each one's id and admin endpoint.
//   node --conditions=source --import tsx packages/dashboard/examples/watch.ts n1=127.0.0.1:7201 n2=127.0.0.1:7202
// Prints the URL; Ctrl-C closes it. No actions are offered (none are injected).
import { startDashboard } from '@keel/dashboard';

const members = process.argv.slice(2).map((arg) => arg.split('='));
if (members.length === 0 || members.some((m) => m.length !== 2)) {
  console.error('usage: watch.ts <id>=<host:port of its admin API> ...');
  process.exit(2);
}
const dashboard = await startDashboard({
  source: {
    name: members.map(([id]) => id).join(', '),
    members: () =>
      members.map(([id = '', http = '']) => ({
        id,
        http,
        client: null,
        pid: null,
        state: 'running' as const,
      })),
  },
  actions: {},
});
console.log(`dashboard: ${dashboard.url}`);
process.once('SIGINT', () => void dashboard.close());
