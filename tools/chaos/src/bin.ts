#!/usr/bin/env node
// `keel-chaos`: the command line of this package (`keel chaos` calls runChaosCli in-process).
import { type ChaosIo, runChaosCli } from './main.js';

const io: ChaosIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
const onSignal = (): void => {
  // @keel/ops's exit hook kills every member by PID; the netns hook removes the namespaces.
  io.err('\nkeel chaos: interrupted; stopping the processes it started\n');
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
runChaosCli(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  (err: Error) => {
    io.err(`keel chaos: ${err.message}\n`);
    process.exit(1);
  },
);
