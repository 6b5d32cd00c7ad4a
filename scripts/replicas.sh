#!/usr/bin/env bash
# Read replicas on 127.0.0.1, for the replica tests and for trying `Db::connect_with_replicas`:
#   - a PostgreSQL streaming replica of the local server (5432), on port 5433
#     (`pg_basebackup -R`; the local server gets a `replication` line in pg_hba.conf);
#   - a MariaDB primary with a binary log on port 3307 and its GTID replica on 3308 (the local
#     server on 3306 runs without a binary log: turning one on would restart the server the
#     rest of the suite uses). The replica is `read_only`; the user `repo` may do anything but
#     write there (no READ ONLY ADMIN), as an application's user would.
# Idempotent: what runs is left running. Small buffers: the machine has 2 cores. Prints the
# URLs to export:  eval "$(scripts/replicas.sh)"
set -euo pipefail
base=${REPLICAS_DIR:-/tmp/repo-replicas}
mkdir -p "$base"
chmod 1777 "$base"  # the servers run as postgres and mysql
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# PostgreSQL: a standby of the local server.
pg_bin=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
[ -x "$pg_bin/postgres" ] || pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql_primary() { psql -h 127.0.0.1 -p 5432 -U postgres -Atq "$@"; }
hba=$(psql_primary -c "SHOW hba_file")
if ! grep -q "^host replication all 127.0.0.1/32 trust" "$hba"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$hba"
  psql_primary -c "SELECT pg_reload_conf()" >/dev/null
fi
# PG_REPLICAS=2 starts a second standby on 5434 (for the replica benchmark).
start_pg_replica() { # data directory, port
  local dir=$1 port=$2
  if pg_isready -h 127.0.0.1 -p "$port" -q; then return 0; fi
  if [ ! -f "$dir/standby.signal" ]; then
    rm -rf "$dir"
    install -d -o postgres -m 700 "$dir"
    runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D "$dir" -R -X stream >&2
    # The local cluster keeps its configuration outside its data directory.
    runuser -u postgres -- sh -c "printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' > '$dir/pg_hba.conf'; : > '$dir/postgresql.conf'"
  fi
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir" -l "$dir/replica.log" -w start \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c shared_buffers=32MB -c max_connections=$(psql_primary -c "SHOW max_connections") -c hot_standby=on" >&2
  wait_for "the PostgreSQL replica on $port" pg_isready -h 127.0.0.1 -p "$port" -q
}
start_pg_replica "$base/postgres-replica" 5433
if [ "${PG_REPLICAS:-1}" -ge 2 ]; then
  start_pg_replica "$base/postgres-replica-2" 5434
fi

# MariaDB: a primary with a binary log and its replica.
my() { # port, statement
  mariadb --protocol=socket --socket="$base/mariadb-$1.sock" -uroot -e "$2"
}
start_mariadb() { # role, port, server id, extra options...
  local role=$1 port=$2 id=$3; shift 3
  local data="$base/mariadb-$role"
  if my "$port" "SELECT 1" >/dev/null 2>&1; then return 0; fi
  if [ ! -d "$data/mysql" ]; then
    rm -rf "$data"
    install -d -o mysql -m 750 "$data"
    mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket \
      --skip-test-db >/dev/null
  fi
  setsid nohup mariadbd --no-defaults --user=mysql --datadir="$data" --port="$port" \
    --bind-address=127.0.0.1 --socket="$base/mariadb-$port.sock" --pid-file="$base/mariadb-$port.pid" \
    --log-error="$base/mariadb-$role.err" --server-id="$id" --innodb-buffer-pool-size=32M \
    --innodb-log-file-size=16M --max-connections=100 --skip-name-resolve "$@" >/dev/null 2>&1 < /dev/null &
  wait_for "MariaDB $role" my "$port" "SELECT 1"
}
start_mariadb primary 3307 11 --log-bin=mariadb-bin --binlog-format=ROW
start_mariadb replica 3308 12 --read-only=1 --relay-log=mariadb-relay
my 3307 "CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1';
  GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
  CREATE USER IF NOT EXISTS 'repo'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON *.* TO 'repo'@'127.0.0.1';
  REVOKE READ ONLY ADMIN ON *.* FROM 'repo'@'127.0.0.1';"
running=$(my 3308 "SHOW SLAVE STATUS\G" | awk '/Slave_SQL_Running:/ {print $2}')
if [ "$running" != "Yes" ]; then
  # The users above were made before the replica existed: it starts from the primary's
  # current position with the same users made on it.
  my 3308 "SET GLOBAL read_only = 0;
    CREATE USER IF NOT EXISTS 'repo'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'repo'@'127.0.0.1';
    REVOKE READ ONLY ADMIN ON *.* FROM 'repo'@'127.0.0.1';
    SET GLOBAL read_only = 1;"
  position=$(my 3307 "SELECT @@gtid_binlog_pos" | tail -n 1)
  my 3308 "STOP SLAVE; SET GLOBAL gtid_slave_pos = '$position';
    CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3307, MASTER_USER='repl',
      MASTER_USE_GTID=slave_pos;
    START SLAVE;"
fi
wait_for "MariaDB replication" sh -c "mariadb --protocol=socket --socket='$base/mariadb-3308.sock' -uroot -e 'SHOW SLAVE STATUS\G' | grep -q 'Slave_SQL_Running: Yes'"

echo "export DATABASE_URL_POSTGRES_REPLICA=postgres://postgres@127.0.0.1:5433/postgres"
if [ "${PG_REPLICAS:-1}" -ge 2 ]; then
  echo "export DATABASE_URL_POSTGRES_REPLICA_2=postgres://postgres@127.0.0.1:5434/postgres"
fi
echo "export DATABASE_URL_MYSQL_PRIMARY=mysql://repo@127.0.0.1:3307/mysql"
echo "export DATABASE_URL_MYSQL_REPLICA=mysql://repo@127.0.0.1:3308/mysql"
echo "export REPLICAS_DIR=$base"
