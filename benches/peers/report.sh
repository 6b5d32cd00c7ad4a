#!/usr/bin/env bash
# Runs the peer benchmarks (its own workspace: Diesel and SeaORM are built only here) and prints
# one Markdown table per backend: criterion medians of each stack per workload, and each
# stack's ratio to sqlx on a plain connection. Needs DATABASE_URL_POSTGRES / DATABASE_URL_MYSQL
# for the servers (`eval "$(../shared/services.sh)"`); PEERS_POOL_SIZE sets the pools' size (1).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/peers}"
cargo bench -q --bench peers -- "${@:-.}" >&2
python3 - "$CARGO_TARGET_DIR/criterion" <<'PY'
import json, os, sys
base = sys.argv[1]
workloads = ["insert_one", "insert_100", "insert_1000", "find_by_id", "select_1", "select_100",
             "select_10000", "update_one", "users_with_posts"]
stacks = ["ours_rusqlite", "ours_sqlx", "ours", "sqlx_connection", "sqlx_pool", "diesel",
          "seaorm", "raw_driver"]
def median(backend, workload, stack):
    path = os.path.join(base, f"{backend}_{workload}", stack, "new", "estimates.json")
    if not os.path.exists(path):
        return None
    return json.load(open(path))["median"]["point_estimate"]
def show(ns):
    if ns is None:
        return ""
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e3:.1f} µs"
for backend in ["sqlite", "postgres", "mysql"]:
    present = [s for s in stacks if any(median(backend, w, s) for w in workloads)]
    if not present:
        continue
    print(f"\n### {backend}\n")
    print("| workload | " + " | ".join(present) + " |")
    print("|---|" + "---:|" * len(present))
    for w in workloads:
        base_ns = median(backend, w, "sqlx_connection")
        cells = []
        for s in present:
            ns = median(backend, w, s)
            ratio = f" ({ns / base_ns:.2f})" if ns and base_ns else ""
            cells.append(show(ns) + ratio)
        print(f"| {w} | " + " | ".join(cells) + " |")
PY
