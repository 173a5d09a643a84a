// `pnpm release:check [dest]`: packs every public package and reports what would be wrong with it
// on the registry. Exit 0 only when every package is clean. The tarballs stay in dest for a look.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkRelease } from './check.js';
import { copyTarballs, runtimeClosure } from './closure.js';
import { publicPackages, workspaceRoot } from './workspace.js';

const USAGE = `usage: pnpm release:check [dest] [--cli-packages <dir>]
  dest                    where the tarballs go (default: a new temporary directory)
  --cli-packages <dir>    also copy the CLI's tarballs (what npm install @keel/cli needs) into dir,
                          for deploy/install.sh and the Dockerfile`;

let parsed: {
  values: { 'cli-packages'?: string | undefined; help?: boolean | undefined };
  positionals: string[];
};
try {
  parsed = parseArgs({
    options: { 'cli-packages': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
} catch (error) {
  process.stderr.write(`release:check: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (parsed.values.help === true || parsed.positionals.length > 1) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(parsed.values.help === true ? 0 : 2);
}
const root = workspaceRoot();
// Paths are the user's: `pnpm release:check` runs this in tools/release, and pnpm names the
// directory it was started from in INIT_CWD.
const cwd = process.env.INIT_CWD ?? process.cwd();
const dest =
  parsed.positionals[0] !== undefined
    ? resolve(cwd, parsed.positionals[0])
    : mkdtempSync(`${tmpdir()}/keel-pack-`);
const results = await checkRelease(root, dest, (line) => process.stderr.write(`${line}\n`));
const cliDir = parsed.values['cli-packages'];
if (cliDir !== undefined) {
  const copied = copyTarballs(
    results,
    runtimeClosure('@keel/cli', publicPackages(root)),
    resolve(cwd, cliDir),
  );
  process.stderr.write(`copied the CLI's ${copied.length} tarballs into ${resolve(cwd, cliDir)}\n`);
}
let bad = 0;
for (const r of results) {
  if (r.problems.length === 0) {
    process.stdout.write(`ok    ${r.name}\n`);
    continue;
  }
  bad += 1;
  process.stdout.write(`FAIL  ${r.name}\n${r.problems.map((p) => `        ${p}\n`).join('')}`);
}
process.stdout.write(
  `\n${results.length - bad} of ${results.length} packages fit to publish; tarballs in ${dest}\n`,
);
process.exitCode = bad === 0 ? 0 : 1;
