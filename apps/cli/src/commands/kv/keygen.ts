import { resolve } from 'node:path';
import { isValidMemberId } from '@keel/core';
import { ConfigError, makeDirectory, writeKeyPairFiles } from '@keel/node/files';
import { generateKeyPair, keyFingerprint } from '@keel/transport-zmq';
import { ExitCode, type Io } from '../../io.js';
import { CommandError, usage } from './errors.js';
import { type Parsed, positionals } from './options.js';

/**
 * `keygen`: a new CURVE key pair (Z85) for a member or a client. With `--out <dir> --id <name>`
 * it writes `<name>.key` (mode 0600) and `<name>.pub` there, the files `keel node --curve-*` reads.
 */
export function keygen(p: Parsed, io: Io): ExitCode {
  positionals('keygen', p, []);
  const { out, id } = p.values;
  if ((typeof out === 'string') !== (typeof id === 'string')) throw usage('--out and --id go together');
  const pair = generateKeyPair();
  const fingerprint = keyFingerprint(pair.publicKey);
  if (typeof out === 'string' && typeof id === 'string') {
    if (!isValidMemberId(id)) throw usage(`--id '${id}' is not a valid member or client name`);
    const dir = resolve(io.cwd ?? process.cwd(), out);
    let files: { key: string; pub: string };
    try {
      makeDirectory(dir);
      files = writeKeyPairFiles(dir, id, pair);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new CommandError(`${dir}/${id}.key or .pub exists already; not overwritten`, ExitCode.Failure);
      if (err instanceof ConfigError) throw new CommandError(err.message, ExitCode.Failure);
      throw new CommandError(
        `cannot write keys to ${dir}: ${code ?? (err as Error).message}`,
        ExitCode.Failure,
      );
    }
    if (p.values.json === true) io.out(JSON.stringify({ ...files, publicKey: pair.publicKey, fingerprint }));
    else {
      io.out(`wrote ${files.key} (secret, mode 0600) and ${files.pub}`);
      io.out(`public: ${pair.publicKey}  (${fingerprint})`);
    }
    return ExitCode.Ok;
  }
  if (p.values.json === true)
    io.out(JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey, fingerprint }));
  else {
    io.out(`public: ${pair.publicKey}`);
    io.out(`secret: ${pair.secretKey}`);
  }
  return ExitCode.Ok;
}
