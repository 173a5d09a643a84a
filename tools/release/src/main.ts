// `pnpm release:check [dest]`: packs every public package and reports what would be wrong with it
// on the registry. Exit 0 only when every package is clean. The tarballs stay in dest for a look.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { checkRelease } from './check.js';
import { workspaceRoot } from './workspace.js';

const dest = process.argv[2] !== undefined ? resolve(process.argv[2]) : mkdtempSync(`${tmpdir()}/keel-pack-`);
const results = await checkRelease(workspaceRoot(), dest, (line) => process.stderr.write(`${line}\n`));
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
