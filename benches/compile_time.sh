#!/usr/bin/env bash
# Build time of a user crate: 30 entities of 8 columns, each used through insert / get / update /
# delete, once with #[derive(Repository)] and once written by hand with sqlx::FromRow and
# query_as. Times, for each crate (median of RUNS, default 3): a rebuild after `touch`, a
# rebuild after one column's type changed, and the crate itself built from clean (its
# dependencies stay built). Writes the table into the "Build time" section of benches/RESULTS.md.
#
# The two crates live in a throwaway workspace under the target directory, with this
# workspace's Cargo.lock and target directory, so dependencies are built once and shared.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-3}
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work="$target_dir/compile-bench"
rm -rf "$work"
mkdir -p "$work"
cp Cargo.lock "$work/"
python3 - "$work" "$root" <<'PY'
import os, sys

work, root = sys.argv[1], sys.argv[2]
ENTITIES = 30
# Seven columns after the key: the types an application's tables have.
COLUMNS = [("name", "String"), ("email", "String"), ("age", "i32"), ("score", "f64"),
           ("active", "bool"), ("bio", "Option<String>"), ("visits", "i64")]

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

write(f"{work}/Cargo.toml", f"""[workspace]
resolver = "3"
members = ["generated", "handwritten"]

[workspace.package]
edition = "2024"

[profile.dev.package."*"]
debug = false
""")

write(f"{work}/generated/Cargo.toml", f"""[package]
name = "compile-bench-generated"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
repo-runtime = {{ path = "{root}/repo-runtime", default-features = false, features = ["sqlite"] }}
""")

write(f"{work}/handwritten/Cargo.toml", """[package]
name = "compile-bench-handwritten"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "sqlite", "derive", "macros"] }
""")

# The struct literal of a new row, the same in both crates.
VALUES = ", ".join(
    f"{name}: {default}" for (name, _), default in zip(COLUMNS, ['"n".into()', '"e".into()', "1", "1.5", "true", "None", "2"])
)

def field_list(indent):
    return "".join(f"{indent}pub {name}: {ty},\n" for name, ty in COLUMNS)

gen = ["//! 30 entities through the derive.\n#![allow(missing_docs)]\n\nuse repo_runtime::prelude::*;\n"]
for i in range(ENTITIES):
    gen.append(f"""
pub mod entity{i} {{
    use super::*;

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "entity{i}")]
    pub struct Entity{i} {{
        #[repo(id, generated)]
        pub id: i64,
{field_list("        ")}    }}

    pub async fn exercise(db: &Db) -> Result<(), RepoError> {{
        let repository = Entity{i}::repository(db);
        let row = repository.insert(NewEntity{i} {{ {VALUES} }}).await?;
        let mut row = repository.get(row.id).await?;
        row.visits += 1;
        repository.update(&row).await?;
        repository.delete(row.id).await?;
        Ok(())
    }}
}}
""")
write(f"{work}/generated/src/lib.rs", "".join(gen))

names = [name for name, _ in COLUMNS]
hand = ["//! The same 30 entities written by hand with sqlx.\n#![allow(missing_docs)]\n\nuse sqlx::SqlitePool;\n"]
for i in range(ENTITIES):
    columns = ", ".join(names)
    placeholders = ", ".join("?" for _ in names)
    sets = ", ".join(f"{n} = ?" for n in names)
    binds = "".join(f"\n            .bind(&new.{n})" for n in names)
    update_binds = "".join(f"\n            .bind(&row.{n})" for n in names)
    hand.append(f"""
pub mod entity{i} {{
    use super::*;

    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Entity{i} {{
        pub id: i64,
{field_list("        ")}    }}

    #[derive(Debug, Clone, PartialEq)]
    pub struct NewEntity{i} {{
{field_list("        ")}    }}

    pub async fn insert(pool: &SqlitePool, new: NewEntity{i}) -> Result<Entity{i}, sqlx::Error> {{
        sqlx::query_as::<_, Entity{i}>(
            "INSERT INTO entity{i} ({columns}) VALUES ({placeholders}) RETURNING id, {columns}",
        ){binds}
        .fetch_one(pool)
        .await
    }}

    pub async fn get(pool: &SqlitePool, id: i64) -> Result<Entity{i}, sqlx::Error> {{
        sqlx::query_as::<_, Entity{i}>("SELECT id, {columns} FROM entity{i} WHERE id = ?")
            .bind(id)
            .fetch_one(pool)
            .await
    }}

    pub async fn update(pool: &SqlitePool, row: &Entity{i}) -> Result<Entity{i}, sqlx::Error> {{
        sqlx::query_as::<_, Entity{i}>(
            "UPDATE entity{i} SET {sets} WHERE id = ? RETURNING id, {columns}",
        ){update_binds}
        .bind(row.id)
        .fetch_one(pool)
        .await
    }}

    pub async fn delete(pool: &SqlitePool, id: i64) -> Result<bool, sqlx::Error> {{
        let done = sqlx::query("DELETE FROM entity{i} WHERE id = ?")
            .bind(id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }}

    pub async fn exercise(pool: &SqlitePool) -> Result<(), sqlx::Error> {{
        let row = insert(pool, NewEntity{i} {{ {VALUES} }}).await?;
        let mut row = get(pool, row.id).await?;
        row.visits += 1;
        update(pool, &row).await?;
        delete(pool, row.id).await?;
        Ok(())
    }}
}}
""")
write(f"{work}/handwritten/src/lib.rs", "".join(hand))
PY

cd "$work"
export CARGO_TARGET_DIR="$target_dir"
seconds() { # command...: wall-clock seconds of the command
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }

declare -A result
for crate in generated handwritten; do
  package="compile-bench-$crate"
  cargo build -q -p "$package"   # dependencies, once
  touch_times=() edit_times=() clean_times=()
  for _ in $(seq "$runs"); do
    touch "$crate/src/lib.rs"
    touch_times+=("$(seconds cargo build -q -p "$package")")
    # One column of one entity changes type, as when a field goes from i32 to i64.
    sed -i '0,/pub age: i32,/s//pub age: i64,/' "$crate/src/lib.rs"
    edit_times+=("$(seconds cargo build -q -p "$package")")
    sed -i '0,/pub age: i64,/s//pub age: i32,/' "$crate/src/lib.rs"
    cargo build -q -p "$package"
    cargo clean -q -p "$package"
    clean_times+=("$(seconds cargo build -q -p "$package")")
  done
  echo "$crate: touch ${touch_times[*]}; edit ${edit_times[*]}; clean ${clean_times[*]}" >&2
  result[$crate,touch]=$(median "${touch_times[@]}")
  result[$crate,edit]=$(median "${edit_times[@]}")
  result[$crate,clean]=$(median "${clean_times[@]}")
done
cd "$root"

# The table goes under its own "### <label>" heading (LABEL, default: the current commit), so
# that a run before a change and one after it sit side by side in RESULTS.md.
label=${LABEL:-$(git log -1 --format='%h %s' | cut -c1-72)}
table=$(mktemp)
{
  echo "### $label"
  echo
  echo "| rebuild | derive | hand-written sqlx | ratio |"
  echo "|---|---:|---:|---:|"
  for what in touch edit clean; do
    case $what in
      touch) row="after \`touch\`" ;;
      edit) row="after one column's type changed" ;;
      clean) row="the crate from clean" ;;
    esac
    g=${result[generated,$what]} h=${result[handwritten,$what]}
    python3 -c 'import sys; g, h = float(sys.argv[2]), float(sys.argv[3]); print(f"| {sys.argv[1]} | {g:.2f} s | {h:.2f} s | {g / h:.2f} |")' "$row" "$g" "$h"
  done
} > "$table"
cat "$table"
python3 - benches/RESULTS.md "$table" "$runs" "$(rustc --version)" <<'PY'
import re, sys

path, table, runs, rustc = sys.argv[1], open(sys.argv[2]).read().rstrip("\n"), sys.argv[3], sys.argv[4]
text = open(path).read()
intro = f"""## Build time

A user crate of 30 entities × 8 columns, each used through insert / get / update / delete
(`benches/compile_time.sh`, SQLite feature only, debug profile, median of {runs}): with
`#[derive(Repository)]` against the same written by hand with `sqlx::FromRow` + `query_as`.
Dependencies are built beforehand; "clean" is the user crate alone. {rustc}.
"""
section = re.search(r"## Build time\n.*?(?=\n## |\Z)", text, re.S)
tables = re.findall(r"(### .*?)(?=\n### |\Z)", section.group(0), re.S) if section else []
label = table.splitlines()[0]
tables = [t.rstrip("\n") for t in tables if t.splitlines()[0] != label] + [table]
new = intro + "\n" + "\n\n".join(tables) + "\n"
if section:
    rest = text[section.end():].lstrip("\n")
    text = text[: section.start()] + new + ("\n" + rest if rest else "")
else:
    text = text.rstrip("\n") + "\n\n" + new
open(path, "w").write(text)
PY
rm -f "$table"
