export const KV_HELP = `keel put|get|del|cas|incr|scan|watch|txn|lease — read, write and watch keys; keel keygen — CURVE keys

Usage:
  keel put <key> <value>                 write a key; prints OK
  keel put <key> -                       ... the value from standard input (bytes as they are)
  keel put <key> --file <path>           ... the value from a file
  keel put <key> <value> --lease <id>    ... attached to a lease: deleted when it expires or is revoked
  keel put <key> <value> --ttl <dur>     ... granting a lease of that TTL first (10s, 2m; at least
                                         2s); prints "OK lease <id>"
  keel get <key>                         print the value; a missing key: nothing on stdout, exit 1
  keel get --prefix <p>                  every key under the prefix, printed as by scan
  keel get <key> --rev <n>               the value as of revision n, from the answering member's
                                         history window (older: exit 1, naming the oldest)
  keel del <key>                         delete a key; prints how many it deleted (1 or 0)
  keel del --prefix <p>                  delete every key under the prefix (see below); prints how many
  keel cas <key> <expected> <new>        write <new> only if the value is <expected>
  keel cas <key> --absent <new>          ... only if the key does not exist
  keel cas <key> --version <n> <new>     ... only if the key's version is n (0: absent)
                                         <new> may be - (stdin) or --file <path>; a failed
                                         comparison writes nothing, shows the value, exits 1
  keel incr <key> [delta]                add delta (default 1, may be negative) to a decimal
                                         integer (absent: 0); prints the new value
  keel scan [--prefix <p> | --start <a> [--end <b>]]
                                         keys in byte order, one "key<TAB>value" line each
                                         (default: every key); no keys: prints nothing
  keel watch <key> | --prefix <p>        print every change, as it is applied, in revision order:
                                         "PUT<TAB>rev<TAB>key<TAB>value" or "DELETE<TAB>rev<TAB>key";
                                         runs until interrupted (or --limit events)
    --rev <n>                            from revision n (default: from now); older than the
                                         members' history window: exit 1, naming the oldest
    --limit <n>                          exit after n events
    --prev                               --json: add "prev", the key before the change (or null)
  keel txn [-] | --file <path>           a transaction, as JSON from stdin or a file:
                                         {"compare":[{"key":"k","value":"v","op":"="}, ...],
                                          "success":[{"put":"k","value":"v"},{"delete":"k"},
                                                     {"get":"k"},{"range":{"prefix":"p"},"limit":n}],
                                          "failure":[...]}
                                         compare one of value, version, createRevision,
                                         modRevision, exists, lease; op = != < > (default =).
                                         All writes at one revision; prints SUCCESS or FAILURE
                                         then a line per operation; FAILURE exits 1.
                                         A put may name "lease": <id>; compare "lease": <id>
                                         (0: the key has none)
  keel lease grant <ttl>                 grant a lease (10s, 2m, a bare number is seconds; at
                                         least 2s); prints its id
  keel lease keep-alive <id>             renew it every ttl/3, printing each renewal, until
                                         Ctrl-C (exit 0; the lease then expires on its own) or
                                         the lease is lost (exit 1)
  keel lease revoke <id>                 end it now: its keys are deleted at one revision;
                                         prints REVOKED, or NOT FOUND (exit 1)
  keel lease ttl <id> [--keys]           the time left as the leader sees it (and the keys);
                                         a lease that is gone: exit 1
  keel lease list                        every live lease: "id<TAB>ttl"
  keel keygen                            a new CURVE key pair (Z85) for a member or a client
  keel keygen --out <dir> --id <name>    ...written as <dir>/<name>.key (0600) and <name>.pub

Values and keys (bytes):
  --base64 | --hex              put/cas: the value arguments, stdin or file are base64/hex text
                                (whitespace ignored); get/scan: print values that way
  --key-base64 | --key-hex      keys, --prefix, --start and --end are given (and printed) so
  --json                        get/scan/get --prefix/watch: one JSON object per key (or event) and line:
                                {"key","value","version","createRevision","modRevision"}; a key
                                or value that is not UTF-8 text is base64, with "keyEncoding" /
                                "valueEncoding": "base64" beside it (or the --base64/--hex asked
                                for); put/cas/incr: the store's result as one JSON document;
                                del: {"deleted":n} (--prefix: {"deleted":n,"skipped":m});
                                --count-only: {"count":n}; watch: {"type":"put"|"delete","revision",...}
  Without --json, get prints the value's bytes as they are, then a newline; scan's lines are
  ambiguous when keys or values hold a tab or newline: use --json, or --base64 with --key-base64.
  A value is at most 8 MiB (8388608 bytes); a larger one is refused before sending (exit 2).

Listing (get --prefix, scan, del):
  --prefix <p>                  keys starting with <p>
  --limit <n>                   at most n keys
  --keys-only                   print keys only (del: the keys it deleted)
  --count-only                  print only how many keys (get <key>: 1 or 0, exit 0 either way)

Options:
  --endpoints <host:port,...>   members' client endpoints (env KEEL_ENDPOINTS)
  --dir <dir>                   or: cluster directory whose cluster.json names the endpoints
                                (default as for 'keel cluster': <repo>/.cluster in the checkout,
                                ./keel-cluster elsewhere; env KEEL_CLUSTER_DIR). The first that
                                is set wins: --endpoints, --dir, KEEL_ENDPOINTS, KEEL_CLUSTER_DIR
  --timeout <duration>          give up after this long: 500ms, 5s, 2m (default 5s; a bare
                                number is seconds); watch: once no member served it that long
  --curve-key-file <file>       this client's CURVE key pair, for members started with keys
                                (env KEEL_CURVE_KEY_FILE; default: the cluster dir's key, for
                                a secure local cluster, see 'keel cluster --help')
  --curve-server-keys <dir|file>
                                the members' public keys, by member id or host:port (env
                                KEEL_CURVE_SERVER_KEYS; default: the cluster dir's)
  --stale                       get/scan: answer from any member's local state (may be behind)
  --session                     writes: exactly-once retries through a client session (costs two
                                more log entries: register and close)
  -h, --help                    this help

Any member serves any request (followers forward writes to the leader). Each write is one log
entry, without a session: put and del are retried after a lost answer (applying them twice
leaves the same state; a retried del may then report 0); cas, incr, txn and del --prefix are not:
when their answer is lost they exit 5, and may or may not have been applied. With --session,
every write is retried and applied exactly once.
del --prefix is not atomic: it reads the range page by page and deletes each key by a cas on the
version it read, so a key changed meanwhile is left alone (counted on stderr), never deleted unseen.

Exit codes: 0 ok (an empty listing, del of a missing key, --count-only included); 1 failure: get
of a missing key, cas comparison failed, incr of a non-integer, cluster unreachable or timed out
(a read, or a write known not applied); 2 usage error (a value over 8 MiB included); 4 no cluster
running in the cluster directory; 5 a write's outcome is unknown (it may or may not have been
applied).`;
