#!/usr/bin/env bash
# Runs the official RealWorld API suite (newman, unchanged) against the Conduit service on
# each backend named (default: sqlite postgres mysql memory), each on a fresh database.
# PostgreSQL and MariaDB come from DATABASE_URL_POSTGRES / DATABASE_URL_MYSQL
# (`eval "$(../shared/services.sh)"`); their `conduit_api` database is dropped and created.
# With CONDUIT_LOAD set (`CONDUIT_LOAD="--clients 50 --seconds 30"`), the load test runs
# against the same service after the suite; CONDUIT_PROFILE=release measures a release build;
# CONDUIT_SERVICE names another build of the service (the benchmarks' hand-written reads).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
collection=${REALWORLD_COLLECTION:-$root/../shared/realworld/Conduit.postman_collection.json}
newman_dir=${NEWMAN_DIR:-$HOME/.cache/newman}
newman=$newman_dir/node_modules/.bin/newman
if [ ! -x "$newman" ]; then
  npm install --prefix "$newman_dir" --no-audit --no-fund --loglevel=error newman@6 >&2
fi
profile=${CONDUIT_PROFILE:-debug}
if [ "$profile" = release ]; then
  cargo build -q --release -p conduit --bin conduit --bin conduit-load
else
  cargo build -q -p conduit --bin conduit --bin conduit-load
fi
target=${CARGO_TARGET_DIR:-$root/target}
service=${CONDUIT_SERVICE:-$target/$profile/conduit}
port=${CONDUIT_API_PORT:-3100}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

for backend in ${*:-sqlite postgres mysql memory}; do
  case $backend in
    sqlite) url="sqlite://$work/conduit.db?mode=rwc" ;;
    memory) url="memory:" ;;
    postgres)
      : "${DATABASE_URL_POSTGRES:?is unset: eval \"\$(../shared/services.sh)\"}"
      psql "$DATABASE_URL_POSTGRES" -q -c 'DROP DATABASE IF EXISTS conduit_api' -c 'CREATE DATABASE conduit_api'
      url="${DATABASE_URL_POSTGRES%/*}/conduit_api" ;;
    mysql)
      : "${DATABASE_URL_MYSQL:?is unset: eval \"\$(../shared/services.sh)\"}"
      mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -uroot \
        -e 'DROP DATABASE IF EXISTS conduit_api; CREATE DATABASE conduit_api'
      url="${DATABASE_URL_MYSQL%/*}/conduit_api" ;;
    *) echo "api-suite.sh: unknown backend $backend" >&2; exit 2 ;;
  esac
  DATABASE_URL=$url CONDUIT_ADDR=127.0.0.1:$port REPO_ENV=dev "$service" > "$work/$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$backend.log" >&2; exit 1; }
    sleep 0.1
  done
  stamp="$backend$(date +%s)"
  echo "== RealWorld API suite on $backend"
  if ! "$newman" run "$collection" --reporters cli --color off \
      --global-var "APIURL=http://127.0.0.1:$port/api" \
      --global-var "USERNAME=u$stamp" --global-var "EMAIL=u$stamp@mail.com" \
      --global-var "PASSWORD=password" > "$work/$backend.newman" 2>&1; then
    cat "$work/$backend.newman" "$work/$backend.log" >&2
    echo "api-suite.sh: the API suite failed on $backend" >&2
    exit 1
  fi
  grep -E "│ +(requests|assertions) " "$work/$backend.newman"
  if [ -n "${CONDUIT_LOAD:-}" ]; then
    echo "== load test on $backend"
    # shellcheck disable=SC2086
    "$target/$profile/conduit-load" --url "http://127.0.0.1:$port/api" $CONDUIT_LOAD
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
