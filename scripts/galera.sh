#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on 127.0.0.1, for the cluster tests: nodes on ports
# 4306, 4307 and 4308 (group communication on 4567-4569, state transfers by rsync on
# 4444-4446), small buffers (the machine has 2 cores). Every node takes writes; Galera
# interleaves auto-increment keys (`auto_increment_increment` = nodes, each its own offset).
# Reads are causal (`wsrep_sync_wait = 1`): a node applies what the cluster certified before it
# answers a read, so a read on one node sees a commit made on another.
# The user `repo` (no password) may do anything. Idempotent: what runs is left running; a node
# that is down is started again and rejoins. Prints the URLs to export:
#   eval "$(scripts/galera.sh)"
set -euo pipefail
base=${GALERA_DIR:-/tmp/repo-galera}
mkdir -p "$base"
chmod 1777 "$base"  # the nodes run as mysql
wait_seconds=90
wait_hint="see $base/node-*.err"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
provider=$(ls /usr/lib/galera/libgalera_smm.so /usr/lib/libgalera_smm.so 2>/dev/null | head -n 1)
[ -n "$provider" ] || { log "libgalera_smm.so not found: install galera-4"; exit 1; }
my() { # node, statement
  mariadb --protocol=socket --socket="$base/node-$1.sock" -uroot -N -e "$2"
}
synced() { [ "$(my "$1" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_local_state_comment'" 2>/dev/null)" = "Synced" ]; }
cluster_size() { my "$1" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_cluster_size'" 2>/dev/null || echo 0; }
start_node() { # node (1-3), bootstrap (yes/no)
  local node=$1 bootstrap=$2 data="$base/node-$1"
  local port=$((4305 + node)) gcomm=$((4566 + node)) sst=$((4443 + node)) ist=$((4567 + 10 + node))
  if [ ! -d "$data/mysql" ]; then
    rm -rf "$data"
    install -d -o mysql -m 750 "$data"
    if [ "$bootstrap" = yes ]; then
      mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket \
        --skip-test-db >/dev/null
    fi
  fi
  local peers="gcomm://127.0.0.1:4567,127.0.0.1:4568,127.0.0.1:4569"
  local extra=()
  [ "$bootstrap" = yes ] && extra+=(--wsrep-new-cluster)
  # A node that was the last to stop may bootstrap again only when marked safe to.
  if [ "$bootstrap" = yes ] && [ -f "$data/grastate.dat" ]; then
    sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$data/grastate.dat"
  fi
  setsid nohup mariadbd --no-defaults --user=mysql --datadir="$data" --port="$port" \
    --bind-address=127.0.0.1 --socket="$base/node-$node.sock" --pid-file="$base/node-$node.pid" \
    --log-error="$base/node-$node.err" --server-id="$((20 + node))" \
    --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --max-connections=100 \
    --skip-name-resolve --binlog-format=ROW --default-storage-engine=InnoDB \
    --innodb-autoinc-lock-mode=2 --wsrep-sync-wait=1 --wsrep-on=ON --wsrep-provider="$provider" \
    --wsrep-cluster-name=repo --wsrep-cluster-address="$peers" \
    --wsrep-node-address="127.0.0.1:$gcomm" --wsrep-node-name="node$node" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$sst" \
    --wsrep-provider-options="base_port=$gcomm;gcache.size=32M;ist.recv_addr=127.0.0.1:$ist" \
    "${extra[@]}" >/dev/null 2>&1 < /dev/null &
  wait_for "node $node" synced "$node"
}
up() { my "$1" "SELECT 1" >/dev/null 2>&1; }
running=()
for node in 1 2 3; do up "$node" && running+=("$node"); done
if [ "${#running[@]}" -eq 0 ]; then
  start_node 1 yes
  running=(1)
fi
for node in 1 2 3; do
  up "$node" || start_node "$node" no
done
for node in 1 2 3; do my "$node" "SET GLOBAL wsrep_sync_wait = 1"; done
first=${running[0]}
my "$first" "CREATE USER IF NOT EXISTS 'repo'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON *.* TO 'repo'@'127.0.0.1' WITH GRANT OPTION;"
[ "$(cluster_size "$first")" = 3 ] || { log "the cluster has $(cluster_size "$first") nodes, not 3"; exit 1; }
echo "export DATABASE_URL_GALERA=mysql://repo@127.0.0.1:4306/mysql,mysql://repo@127.0.0.1:4307/mysql,mysql://repo@127.0.0.1:4308/mysql"
echo "export GALERA_DIR=$base"
