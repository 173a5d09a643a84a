import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import { gauge } from './metricKit.js';

/** This package's version: from its package.json, one level above both `src/` and `dist/`. */
export const SERVER_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

/**
 * `keel_build_info{version,nodejs_version}` = 1: the Prometheus idiom for facts that are labels,
 * joined onto other series (`* on(node_id) group_left(version) keel_build_info`).
 */
export function registerBuildInfo(r: Registry): void {
  gauge(r, 'keel_build_info', 'Always 1; the labels say which Keel and which Node.js this member runs', [
    'version',
    'nodejs_version',
  ]).set({ version: SERVER_VERSION, nodejs_version: process.version }, 1);
}
