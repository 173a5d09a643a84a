import { DEFAULT_BASE_PORT, MAX_MEMBERS } from '../../cluster/ports.js';

export const CLUSTER_HELP = `keel cluster — run a local cluster of real \`keel node\` processes

Usage: keel cluster <command> [options]

Commands:
  up [-n <count>] [--base-port <p>] [--detach] [--wal-segment-size <size>] [--secure]
     [--dashboard-port <p>] [--no-dashboard]
                      start members n1..n<count> (default 3) and show a live view and a web
                      dashboard (its URL is printed; port: base port + 400, 7500 by default,
                      or a free one); Ctrl-C stops the cluster. --detach returns once a leader
                      is elected (then 'keel dashboard' serves the page).
                      --secure: CURVE keys for every member and the CLI plus an admin token,
                      in <dir>/keys/ (docs/security.md); KV commands and status use them
  status              one table (or --json) of every member
  down [--clean]      stop every member (SIGTERM, SIGKILL after --timeout); --clean also
                      deletes the members' data and the cluster file
  stop <id>           stop one member gracefully (SIGTERM, then SIGKILL)
  kill <id>           kill one member at once (SIGKILL), as a crash would
  restart <id>        start a member again with the same command line (stops it first if running)
  pause <id>          freeze a member (SIGSTOP); resume <id> continues it (SIGCONT)
  isolate <id>        cut a member off from its peers, both ways, as a network partition would
                      (it keeps running and serving clients); heal <id> reconnects it
  logs <id> [-f] [-n <lines>] [--raw]
                      print a member's log; -f follows it. On a terminal the JSON lines
                      go through pino-pretty (colours unless NO_COLOR); --raw keeps JSON
  add-node [--learner]
                      start a new member (next free id, ports by the same scheme) that joins
                      the running cluster: added as a learner, promoted to voter once caught up
                      (keel members add); --learner leaves it a learner
  remove-node <id>    remove a member from the configuration (keel members remove), then stop it;
                      its data dir is kept

Options:
  --dir <dir>         cluster directory (default: <repo>/.cluster inside the checkout,
                      ./keel-cluster elsewhere; env KEEL_CLUSTER_DIR)
  -n, --members <n>   members for up, 1-${MAX_MEMBERS} (odd sizes tolerate the most failures; default 3)
  --base-port <p>     member i listens on peer p+i, client p+100+i, HTTP p+200+i
                      (default ${DEFAULT_BASE_PORT}: n1 uses 7101, 7201, 7301)
  --detach            up: return once a leader is elected, leave the members running
  --wal-segment-size <size>
                      up: each member's WAL segment file (default 4MiB; a member keeps
                      about two on disk); 'keel node' defaults to 64MiB for servers
  --timeout <duration>
                      up --detach: how long to wait for a leader (default 15s);
                      down/stop/restart: how long before SIGKILL (default 5s);
                      add-node/remove-node: how long the change may take (default 10s).
                      Durations: 500ms, 5s, 2m, 1m30s; a bare number is seconds
  --json              machine-readable output (one JSON document on stdout)
  -h, --help          this help

Each member writes its data and its log (member.log) to <dir>/<id>/; <dir>/cluster.json records
ids, PIDs and ports for the other commands. A PID is only signalled after checking it is still
that member's process.

Exit codes: 0 ok (status: a leader is known), 1 failure (no leader, a member did not start, ports
in use, a cluster already running), 2 usage error, 4 no cluster running in the directory.`;
