#!/usr/bin/env bash
# Servers that speak only TLS, on 127.0.0.1, for the TLS tests: a certificate authority made
# here (and a second one, which signed nothing the servers use), a server certificate it signs
# for `localhost` and 127.0.0.1, then
#   - a PostgreSQL cluster on port 5435 with `ssl = on` whose pg_hba accepts only `hostssl`;
#   - a MariaDB server on port 3309 with `require_secure_transport`, and the user `repo`.
# Idempotent: what runs is left running, the certificates are kept. Small buffers: the machine
# has 2 cores. Prints what to export:  eval "$(scripts/tls.sh)"
set -euo pipefail
base=${TLS_DIR:-/tmp/repo-tls}
mkdir -p "$base"
chmod 1777 "$base"  # the servers run as postgres and mysql
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# The authorities and the servers' certificate.
make_ca() { # name
  [ -f "$base/$1.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=repo test $1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$base/$1.key" -out "$base/$1.crt" 2>/dev/null
}
make_ca ca
make_ca other-ca
if [ ! -f "$base/server.crt" ]; then
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$base/server.key" -out "$base/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    > "$base/server.ext"
  openssl x509 -req -in "$base/server.csr" -CA "$base/ca.crt" -CAkey "$base/ca.key" \
    -CAcreateserial -days 365 -extfile "$base/server.ext" -out "$base/server.crt" 2>/dev/null
fi
chmod 644 "$base"/*.crt

# PostgreSQL: its own key file, owned by postgres and private, as the server demands.
pg_bin=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
[ -x "$pg_bin/initdb" ] || pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_data="$base/postgres"
if ! pg_isready -h 127.0.0.1 -p 5435 -q; then
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    rm -rf "$pg_data"
    install -d -o postgres -m 700 "$pg_data"
    runuser -u postgres -- "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust >/dev/null
    install -o postgres -m 600 "$base/server.key" "$pg_data/server.key"
    install -o postgres -m 644 "$base/server.crt" "$pg_data/server.crt"
    runuser -u postgres -- sh -c "printf '%s\n' 'local all all trust' \
      'hostssl all all 127.0.0.1/32 trust' 'hostnossl all all 127.0.0.1/32 reject' \
      > '$pg_data/pg_hba.conf'"
  fi
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w start \
    -o "-p 5435 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_data -c shared_buffers=16MB -c max_connections=40 -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key" >&2
  wait_for "the TLS PostgreSQL on 5435" pg_isready -h 127.0.0.1 -p 5435 -q
fi

# MariaDB: TLS required of every connection over TCP.
my() { mariadb --protocol=socket --socket="$base/mariadb.sock" -uroot -e "$1"; }
my_data="$base/mariadb"
if ! my "SELECT 1" >/dev/null 2>&1; then
  if [ ! -d "$my_data/mysql" ]; then
    rm -rf "$my_data"
    install -d -o mysql -m 750 "$my_data"
    mariadb-install-db --user=mysql --datadir="$my_data" --auth-root-authentication-method=socket \
      --skip-test-db >/dev/null
  fi
  install -o mysql -m 600 "$base/server.key" "$base/mariadb-server.key"
  setsid nohup mariadbd --no-defaults --user=mysql --datadir="$my_data" --port=3309 \
    --bind-address=127.0.0.1 --socket="$base/mariadb.sock" --pid-file="$base/mariadb.pid" \
    --log-error="$base/mariadb.err" --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
    --max-connections=60 --skip-name-resolve --ssl-ca="$base/ca.crt" \
    --ssl-cert="$base/server.crt" --ssl-key="$base/mariadb-server.key" \
    --require-secure-transport=ON >/dev/null 2>&1 < /dev/null &
  wait_for "the TLS MariaDB on 3309" my "SELECT 1"
fi
my "CREATE USER IF NOT EXISTS 'repo'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'repo'@'127.0.0.1';"

echo "export DATABASE_URL_POSTGRES_TLS=postgres://postgres@localhost:5435/postgres"
echo "export DATABASE_URL_MYSQL_TLS=mysql://repo@localhost:3309/mysql"
echo "export TLS_CA=$base/ca.crt"
echo "export TLS_OTHER_CA=$base/other-ca.crt"
