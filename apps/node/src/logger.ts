import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { NodeConfig } from './config.js';

/**
 * One root logger per member, JSON lines by default and human-readable on a TTY. Every line
 * carries `nodeId`; components get child loggers (`component: 'raft' | 'wal' | ...`).
 */
export function createLogger(config: Pick<NodeConfig, 'id' | 'logLevel' | 'logFormat'>): Logger {
  const options = {
    level: config.logLevel,
    base: { nodeId: config.id },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (config.logFormat === 'pretty') {
    return pino(options, pretty({ colorize: true, sync: true, ignore: 'pid,hostname' }));
  }
  return pino(options, pino.destination({ fd: 1, sync: false }));
}
