import { generateKeyPair } from '@keel/transport-zmq';
import { ExitCode, type Io } from '../../io.js';
import { type Parsed, positionals } from './options.js';

/** `keygen`: a new CURVE key pair (Z85) for a member or a client. */
export function keygen(p: Parsed, io: Io): ExitCode {
  positionals('keygen', p, []);
  const pair = generateKeyPair();
  if (p.values.json === true)
    io.out(JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey }));
  else {
    io.out(`public: ${pair.publicKey}`);
    io.out(`secret: ${pair.secretKey}`);
  }
  return ExitCode.Ok;
}
