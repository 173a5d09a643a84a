import { runCli } from './cli.js';

// The first Ctrl-C, SIGTERM or SIGHUP asks the running command to finish in order (the live view
// stops the cluster); members run in their own process groups, so the terminal's Ctrl-C reaches
// only this process. Under `npm start` the same Ctrl-C also arrives forwarded by npm and pnpm, so
// a repeat within a second is the same request; a later one exits at once.
const stop = new AbortController();
let firstSignalAt = 0;
const onSignal = (): void => {
  const now = Date.now();
  if (firstSignalAt === 0) {
    firstSignalAt = now;
    stop.abort();
  } else if (now - firstSignalAt > 1000) {
    process.stderr.write(
      "keel: interrupted again; exiting now (see 'keel cluster status' for members still running)\n",
    );
    process.exit(130);
  }
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
// A closed terminal must not stop an orderly shutdown half-way: lost output is the lesser harm.
const ignore = (): void => undefined;
process.stdout.on('error', ignore);
process.stderr.on('error', ignore);

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  write: (text) => process.stdout.write(text),
  writeBytes: (bytes) => process.stdout.write(bytes),
  isTTY: process.stdout.isTTY === true,
  ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  cwd: process.cwd(),
  env: process.env,
  stop: stop.signal,
});
process.exitCode = code;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
