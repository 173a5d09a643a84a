// Runs after `tsc` in `pnpm build`: records what `keel --version` reports beside the version in
// package.json, in dist/build-info.json. The commit is the checkout's HEAD at build time ("+dirty"
// when files differed from it); without git (a tarball) it is null.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function git(...args) {
  try {
    return execFileSync('git', args, {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

const head = git('rev-parse', '--short=12', 'HEAD');
const dirty = head !== null && git('status', '--porcelain', '--untracked-files=no') !== '';
const info = {
  commit: head === null ? null : `${head}${dirty ? '+dirty' : ''}`,
  builtAt: new Date().toISOString(),
  builtWith: process.version,
};
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify(info, null, 2)}\n`);
