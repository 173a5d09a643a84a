// Where the member program is, for whoever starts members as processes (`keel cluster up`, the
// benchmarks, the chaos tool). It imports nothing else, so asking costs no startup time.
import { fileURLToPath } from 'node:url';

/**
 * The absolute path of the built member program (this package's `dist/main.js`), the script every
 * member process runs. From the TypeScript sources (tests, `tsx`) it is the same built file.
 */
export function memberProgramPath(): string {
  const here = import.meta.url;
  const main = here.endsWith('.ts') ? new URL('../dist/main.js', here) : new URL('./main.js', here);
  return fileURLToPath(main);
}
