import { readFileSync } from 'node:fs';

/**
 * What `keel --version` prints: the version in this package's package.json (one level above both
 * `src/` and `dist/`), and the build facts `pnpm build` records in dist/build-info.json
 * (scripts/build-info.mjs). Run from source (tsx, tests) there is no build, and it says so.
 * Read only when asked, so the other commands never pay for it.
 */
export interface BuildInfo {
  readonly commit: string | null;
  readonly builtAt: string;
  readonly builtWith: string;
}

function readJson<T>(url: URL): T | null {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function cliVersion(): string {
  return readJson<{ version: string }>(new URL('../package.json', import.meta.url))?.version ?? 'unknown';
}

export function versionLines(): string[] {
  const build = readJson<BuildInfo>(new URL('./build-info.json', import.meta.url));
  return [
    `keel ${cliVersion()}`,
    build === null
      ? 'commit: unknown (running from source, not a build)'
      : `commit: ${build.commit ?? 'unknown (built outside a git checkout)'}, built ${build.builtAt} with Node.js ${build.builtWith}`,
    `node: ${process.version} (${process.platform} ${process.arch})`,
  ];
}
