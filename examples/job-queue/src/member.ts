/**
 * One job-queue member as an OS process: `startMember` from @keel/server with the JobQueue machine
 * and its request service, a ticker that moves the log's clock while this member leads, pino logs
 * on stdout, and a graceful close on SIGTERM/SIGINT. From examples/job-queue:
 *
 *   node --conditions=source --import tsx src/member.ts --id a --data-dir /tmp/jq/a \
 *     --peers a=127.0.0.1:7101,b=127.0.0.1:7102,c=127.0.0.1:7103 \
 *     --clients a=127.0.0.1:7201,b=127.0.0.1:7202,c=127.0.0.1:7203 --http 127.0.0.1:7301
 */
import { parseArgs } from 'node:util';
import { parseAddress, parsePeers, startMember } from '@keel/server';
import { ClientConnection } from '@keel/transport-zmq';
import { pino } from 'pino';
import { encodeCommand } from './codec.js';
import { JobQueue } from './JobQueue.js';
import { commandRequest, decodeReply, jobQueueService } from './service.js';

// `pnpm member -- --x` passes the `--` on: skip it.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    id: { type: 'string' },
    'data-dir': { type: 'string' },
    peers: { type: 'string' },
    clients: { type: 'string' },
    http: { type: 'string' },
    'tick-ms': { type: 'string', default: '1000' },
    'log-level': { type: 'string', default: process.env.KEEL_LOG_LEVEL ?? 'info' },
    // Accepted so @keel/ops's memberCommand line works as is; the logs are always JSON.
    'log-format': { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`job-queue member: ${message}\n`);
  process.exit(2);
}

const id = values.id ?? fail('--id is required');
const dataDir = values['data-dir'] ?? fail('--data-dir is required');
const peers = parsePeers(values.peers ?? fail('--peers is required'));
if (!peers.ok) fail(peers.message);
const clients = parsePeers(values.clients ?? fail('--clients is required'));
if (!clients.ok) fail(clients.message);
const http = values.http === undefined ? null : parseAddress(values.http);
if (http !== null && !http.ok) fail(http.message);
const tickMs = Number(values['tick-ms']);
if (!Number.isInteger(tickMs) || tickMs < 0)
  fail('--tick-ms must be a whole number of milliseconds (0: no ticks)');

const logger = pino({ level: values['log-level'] }).child({ node: id });
const member = await startMember({
  id,
  dataDir,
  peers: peers.value,
  clients: clients.value,
  http: http === null ? null : http.value,
  stateMachine: new JobQueue(),
  service: jobQueueService,
  logger,
  onFatal: (err) => {
    logger.fatal({ err }, 'member stopped for good');
    process.exit(1);
  },
});
logger.info({ pid: process.pid }, 'job-queue member started');

// The lease rule's clock moves only through the log: while this member leads, it proposes a tick
// now and then (through its own client port, like any client), so leases lapse while nobody writes.
const own = clients.value.find((c) => c.id === id) ?? fail(`--clients has no address for ${id}`);
const self = new ClientConnection({ address: `tcp://${own.host}:${own.port}`, timeoutMs: 2000 });
let ticking = false;
const ticker =
  tickMs === 0
    ? null
    : setInterval(() => {
        if (ticking || member.status().role !== 'leader') return;
        ticking = true;
        self
          .request(commandRequest(encodeCommand({ kind: 'tick', at: Date.now() })))
          .then((reply) => {
            const r = decodeReply(reply);
            if (r.kind === 'error') logger.debug({ code: r.error.code }, 'tick not committed');
          })
          .catch((err: unknown) => logger.debug({ err }, 'tick failed'))
          .finally(() => {
            ticking = false;
          });
      }, tickMs);

let closing = false;
async function close(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'closing');
  if (ticker !== null) clearInterval(ticker);
  await self.close();
  await member.close();
  logger.info('closed');
  process.exit(0);
}
process.on('SIGTERM', () => void close('SIGTERM'));
process.on('SIGINT', () => void close('SIGINT'));
