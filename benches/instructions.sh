#!/usr/bin/env bash
# Counts instructions (valgrind callgrind) of the generated repository and of hand-written sqlx
# per call, on every configured backend: runs each side with N and 2N calls and divides the
# difference by N, so set-up cost cancels out. `get` is also counted against hand-written sqlx on
# one connection held throughout (no pool on its path). Client-side only: the database servers are other
# processes (SQLite's work is in-process and counted on both sides alike).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p repo-benches --bin instructions
bin=target/release/instructions
n=${N:-200}
count() { # backend side operation calls
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" "$3" "$4" >/dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
  rm -f "$out"
}
echo "| backend | operation | generated Ir/call | hand-written Ir/call | ratio |"
echo "|---|---|---:|---:|---:|"
backends="sqlite"
[ -n "${DATABASE_URL_POSTGRES:-}" ] && backends="$backends postgres"
[ -n "${DATABASE_URL_MYSQL:-}" ] && backends="$backends mysql"
for backend in $backends; do
  for op in ${OPS:-get insert update derived_query list filtered_page}; do
    calls=$n; [ "$op" = list ] && calls=$((n / 20))
    g1=$(count "$backend" generated "$op" "$calls"); g2=$(count "$backend" generated "$op" $((calls * 2)))
    h1=$(count "$backend" handwritten "$op" "$calls"); h2=$(count "$backend" handwritten "$op" $((calls * 2)))
    python3 -c "g=($g2-$g1)/$calls; h=($h2-$h1)/$calls; print(f'| $backend | $op | {g:,.0f} | {h:,.0f} | {g/h:.3f} |')"
    if [ "$op" = get ] && [ "$backend" != rusqlite ]; then
      # Hand-written sqlx on one connection held throughout: no pool on its path.
      c1=$(count "$backend" connection "$op" "$calls"); c2=$(count "$backend" connection "$op" $((calls * 2)))
      python3 -c "g=($g2-$g1)/$calls; c=($c2-$c1)/$calls; print(f'| $backend | get, against a held connection | {g:,.0f} | {c:,.0f} | {g/c:.3f} |')"
    fi
  done
done
