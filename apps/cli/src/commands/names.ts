/** The KV commands' names: cli.ts dispatches on them without loading their modules. */
export const KV_COMMAND_NAMES = [
  'put',
  'get',
  'del',
  'cas',
  'incr',
  'scan',
  'watch',
  'txn',
  'lease',
  'keygen',
] as const;
export type KvCommandName = (typeof KV_COMMAND_NAMES)[number];
