import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isValidMemberId } from '@keel/core';
import { ConfigError } from '@keel/server/config';

/**
 * Keel's key files (docs/security.md):
 * - `<name>.key`, mode 0600: `public: <z85>` and `secret: <z85>` lines, the output of `keel keygen`;
 * - `<name>.pub`: the public key alone, one line of 40 Z85 characters;
 * - a list file: `<name>=<z85>` lines (`#` comments, blank lines ignored).
 * A key directory holds `<name>.pub` files; the name of a member's is its id.
 */
export interface KeyPairFile {
  readonly publicKey: string;
  readonly secretKey: string;
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new ConfigError(`cannot read ${what} ${file}: ${why}`);
  }
}

/** Reads a `<name>.key` file; refuses one that others may read (like ssh does). */
export function readKeyPairFile(file: string, what = 'CURVE key file'): KeyPairFile {
  const text = read(file, what);
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    throw new ConfigError(`${what} ${file} is readable by other users: chmod 600 ${file}`);
  }
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s*(\\S+)\\s*$`, 'm').exec(text);
    if (m === null)
      throw new ConfigError(
        `${what} ${file} has no '${name}: <key>' line (write it with 'keel keygen --out <dir> --id <name>')`,
      );
    if (!Z85_KEY.test(m[1]!))
      throw new ConfigError(`${what} ${file}: the ${name} key is not 40 Z85 characters`);
    return m[1]!;
  };
  return { publicKey: field('public'), secretKey: field('secret') };
}

/** Reads a `<name>.pub` file. */
export function readPublicKeyFile(file: string, what = 'public key file'): string {
  const text = read(file, what)
    .trim()
    .replace(/^public:\s*/, '');
  if (!Z85_KEY.test(text)) throw new ConfigError(`${what} ${file} does not hold one 40-character Z85 key`);
  return text;
}

/**
 * Public keys by name from a directory of `<name>.pub` files or a list file of `<name>=<key>`
 * lines. `what` names the flag in errors.
 */
export function readPublicKeys(path: string, what: string): Map<string, string> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${what}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file or directory' : code}`,
    );
  }
  const keys = new Map<string, string>();
  if (isDir) {
    let names: string[];
    try {
      names = readdirSync(path).filter((n) => n.endsWith('.pub'));
    } catch (err) {
      throw new ConfigError(`${what}: cannot list ${path}: ${(err as NodeJS.ErrnoException).code}`);
    }
    for (const n of names.sort())
      keys.set(basename(n, '.pub'), readPublicKeyFile(join(path, n), `${what}: file`));
    return keys;
  }
  read(path, `${what}: file`)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(line);
      if (m === null || !Z85_KEY.test(m[2]!)) {
        throw new ConfigError(`${what}: ${path} line ${i + 1} is not '<name>=<40-character Z85 key>'`);
      }
      keys.set(m[1]!, m[2]!);
    });
  return keys;
}

/** Member public keys by id (`--curve-peer-keys`): every name must be a valid member id. */
export function readPeerKeys(path: string): Map<string, string> {
  const keys = readPublicKeys(path, '--curve-peer-keys');
  for (const id of keys.keys()) {
    if (!isValidMemberId(id))
      throw new ConfigError(`--curve-peer-keys: '${id}' in ${path} is not a valid member id`);
  }
  return keys;
}

/** Writes `<dir>/<name>.key` (mode 0600) and `<dir>/<name>.pub`; refuses to overwrite. */
export function writeKeyPairFiles(
  dir: string,
  name: string,
  pair: KeyPairFile,
): { key: string; pub: string } {
  const key = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  writeFileSync(key, `public: ${pair.publicKey}\nsecret: ${pair.secretKey}\n`, { mode: 0o600, flag: 'wx' });
  // The mode of a new file is masked by the umask; the key must not be readable by others whatever it is.
  chmodSync(key, 0o600);
  writeFileSync(pub, `${pair.publicKey}\n`, { flag: 'wx' });
  return { key, pub };
}

/** Reads a secret from a file (the admin token): its first line, which must not be empty. */
export function readSecretFile(file: string, what: string): string {
  const text = read(file, what);
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    throw new ConfigError(`${what} ${file} is readable by other users: chmod 600 ${file}`);
  }
  const line = text.split('\n')[0]!.trim();
  if (line === '') throw new ConfigError(`${what} ${file} is empty`);
  return line;
}
