#!/usr/bin/env node
// The `keel` command. Runs the compiled CLI; `pnpm keel` runs it from source instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'keel: the CLI is not built; run `pnpm build` (or use `pnpm keel` from the repository)\n',
  );
  process.exit(1);
}
await import(main.href);
