import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The page's files, shipped in the package's static/ folder (next to src/ and dist/): no build step, no CDN. */
const STATIC = new URL('../static/', import.meta.url);

export const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/chart.js': { file: 'chart.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const;
export type AssetPath = keyof typeof ASSETS;

/** Reads every asset once; the page gets the per-run token in a meta tag of index.html. */
export function loadAssets(token: string): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [path, a] of Object.entries(ASSETS)) {
    let text = readFileSync(fileURLToPath(new URL(a.file, STATIC)), 'utf8');
    if (a.file === 'index.html') text = text.replace('__KEEL_DASHBOARD_TOKEN__', token);
    out.set(path, { body: Buffer.from(text), type: a.type });
  }
  return out;
}
