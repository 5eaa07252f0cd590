#!/usr/bin/env bash
# Scale benchmarks of issue 15 (figures, not timed tests), on a release build, whole process:
#   1. sandboxc synth of a 1,000-user blueprint: wall time (best and median of RUNS runs) and
#      peak memory (GNU time's maximum resident set size); target at most 200 ms and 64 MB;
#   2. sandboxc synth of the embedded default blueprint: target at most 20 ms;
#   3. sandboxc plan --against for one user added to the 1,000-user sandbox: target at most
#      300 ms; the plan must change exactly that user's role, notebook instance and allow-list
#      entry, and the root's reference to their users shard (checked; the script fails else).
# Usage: scripts/bench-scale.sh [RUNS]   (default 15)
#   SANDBOXC_BIN: the binary to measure; default: the shared release target's
#   (/root/.cache/sandboxc/target-release/release/sandboxc, built by
#   `flock /tmp/sandboxc-release.lock env CARGO_TARGET_DIR=/root/.cache/sandboxc/target-release
#   cargo build --release --locked --bin sandboxc`), else $CARGO_TARGET_DIR/release/sandboxc.
#   The script never builds: a release build needs the shared lock.
# cfn-lint and checkov on the same 1,000-user output: scripts/lint-scale.sh.
set -euo pipefail
RUNS="${1:-15}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${SANDBOXC_BIN:-/root/.cache/sandboxc/target-release/release/sandboxc}"
if [ ! -x "$BIN" ]; then BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/sandboxc"; fi
[ -x "$BIN" ] || { echo "no release binary at $BIN: build it first (see the header)" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
source "$ROOT/scripts/scale-blueprint.sh"

scale_blueprint 1000 > "$WORK/1000.yaml"
scale_blueprint 1000 newcomer@example.org > "$WORK/1001.yaml"

# time_ms CMD...: wall milliseconds of one run
time_ms() { local s e; s=$(date +%s%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
stats() { sort -n | awk '{a[NR]=$1} END {printf "best %d ms, median %d ms, worst %d ms (%d runs)\n", a[1], a[int((NR+1)/2)], a[NR], NR}'; }
bench() { # label CMD...
    local label="$1"; shift
    "$@" > /dev/null 2>&1 || { echo "$label: the command failed:"; "$@"; exit 1; }
    printf '%-44s ' "$label:"
    for _ in $(seq "$RUNS"); do time_ms "$@"; done | stats
}
peak() { # label CMD...: GNU time's maximum resident set size (median of 5)
    local label="$1"; shift
    for _ in 1 2 3 4 5; do
        /usr/bin/time -v -o "$WORK/rss" "$@" > /dev/null 2>&1 || true
        awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/rss"
    done | sort -n | awk -v l="$label peak memory:" '{a[NR]=$1} END {printf "%-44s median %d KB (%.1f MB), max %d KB\n", l, a[3], a[3]/1024, a[5]}'
}

echo "binary: $BIN"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
bench "synth, 1,000 users" "$BIN" -q synth "$WORK/1000.yaml" --out "$WORK/out1000"
peak "synth, 1,000 users" "$BIN" -q synth "$WORK/1000.yaml" --out "$WORK/out1000"
bench "synth, default blueprint" "$BIN" -q synth --out "$WORK/outdefault"
peak "synth, default blueprint" "$BIN" -q synth --out "$WORK/outdefault"
"$BIN" -q synth "$WORK/1000.yaml" --out "$WORK/before"
# plan exits 0 (no changes) or 2 (changes); only other codes are failures.
plan_once() { local c=0; "$BIN" plan "$WORK/1001.yaml" --against "$WORK/before" "$@" || c=$?; [ $c -eq 0 ] || [ $c -eq 2 ]; }
bench "plan --against, one user added to 1,000" plan_once
peak "plan --against, one user added to 1,000" "$BIN" plan "$WORK/1001.yaml" --against "$WORK/before"
echo "templates of the 1,000-user output: $(ls "$WORK/before"/*.template.json | wc -l); largest:"
ls -S -l "$WORK/before"/*.template.json | head -2 | awk '{print "  " $5 " bytes " $9}'
plan_once --format json > "$WORK/plan.json" || { echo "plan --format json failed"; exit 1; }
python3 - "$WORK/plan.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
changed = sorted((t["stack"], r["logical_id"], r["action"]) for t in plan["templates"] for r in t["resources"])
print("plan changes:", changed)
users = [c for c in changed if c[0].startswith("users")]
others = [(s, i) for s, i, _ in changed if not s.startswith("users")]
kinds = ("Role", "Notebook", "AllowList")
prefixes = {i[: -len(k)] for _, i, _ in users for k in kinds if i.endswith(k)}
shards = {s for s, _, _ in users}
ok = (
    len(users) == 3
    and all(a == "add" for _, _, a in users)
    and len(prefixes) == 1
    and next(iter(prefixes)).startswith("UserNewcomer")
    and {i for _, i, _ in users} == {next(iter(prefixes)) + k for k in kinds}
    and len(shards) == 1
    and others == [("root", next(iter(shards)).capitalize() + "NestedStack")]
    and "newcomer@example.org" in json.dumps(plan["access"])
)
print("plan lists only the newcomer's role, notebook and allow-list entry, and the root's reference to their shard:", ok)
sys.exit(0 if ok else 1)
PY
