#!/usr/bin/env bash
# Scale benchmarks of issue 15 (figures, not timed tests), on a release build, whole process:
#   1. sandboxc synth of a 1,000-user blueprint: wall time (best and median of N runs) and peak
#      memory (GNU time's maximum resident set size); target at most 200 ms and 64 MB;
#   2. sandboxc synth of the embedded default blueprint: target at most 20 ms;
#   3. sandboxc plan --against for one user added to the 1,000-user sandbox: target at most
#      300 ms; the plan must name that user's resources and nothing of anyone else;
#   4. cfn-lint (informational checks included) and checkov on the 1,000-user output: clean.
# Usage: scripts/bench-scale.sh [RUNS]   (SANDBOXC_VENV: the venv with cfn-lint and checkov;
# CARGO_TARGET_DIR is honoured.) Step 4 is skipped when SANDBOXC_VENV is unset.
set -euo pipefail
RUNS="${1:-15}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$ROOT" && cargo build --release --quiet --bin sandboxc)
BIN="$TARGET/release/sandboxc"

users() { # N [extra]: a blueprint with N users (and one more named extra)
    printf 'name: scale\nregion: eu-west-1\nappstream:\n  image_name: img\nnotebook:\n  shards: 16\n'
    printf 'datasets:\n  genomics: {prefix: datasets/genomics/}\n  claims: {prefix: datasets/claims/}\nusers:\n'
    for i in $(seq -w 0 $(($1 - 1))); do
        printf '  - id: user%s@example.org\n    datasets: {genomics: read, claims: read-write}\n' "$i"
    done
    if [ -n "${2:-}" ]; then printf '  - id: %s\n    datasets: {genomics: read}\n' "$2"; fi
}
users 1000 > "$WORK/1000.yaml"
users 1000 newcomer@example.org > "$WORK/1001.yaml"

# time_ms CMD...: wall milliseconds of one run
time_ms() { local s e; s=$(date +%s%N); "$@" > /dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
stats() { sort -n | awk '{a[NR]=$1} END {printf "best %d ms, median %d ms (%d runs)\n", a[1], a[int((NR+1)/2)], NR}'; }
bench() { # label CMD...
    local label="$1"; shift
    "$@" > /dev/null 2>&1 || { echo "$label: the command failed:"; "$@"; exit 1; }
    printf '%-48s ' "$label:"
    for _ in $(seq "$RUNS"); do time_ms "$@"; done | stats
}
peak() { # label CMD...: GNU time's maximum resident set size
    local kb
    kb=$(/usr/bin/time -f '%M' -o "$WORK/rss" "$@" > /dev/null 2>&1; cat "$WORK/rss")
    printf '%-48s %d KB (%.1f MB)\n' "$1 peak memory:" "$kb" "$(echo "$kb / 1024" | bc -l)"
}

bench "synth, 1,000 users" "$BIN" -q synth "$WORK/1000.yaml" --out "$WORK/out1000"
peak "synth, 1,000 users" "$BIN" -q synth "$WORK/1000.yaml" --out "$WORK/out1000"
bench "synth, default blueprint" "$BIN" -q synth --out "$WORK/outdefault"
peak "synth, default blueprint" "$BIN" -q synth --out "$WORK/outdefault"
"$BIN" -q synth "$WORK/1000.yaml" --out "$WORK/before"
bench "plan --against, one user added to 1,000" "$BIN" -q plan "$WORK/1001.yaml" --against "$WORK/before"
peak "plan --against, one user added to 1,000" "$BIN" -q plan "$WORK/1001.yaml" --against "$WORK/before"
echo "templates of the 1,000-user output: $(ls "$WORK/before"/*.template.json | wc -l); largest:"
ls -S -l "$WORK/before"/*.template.json | head -2 | awk '{print "  " $5 " bytes " $9}'
"$BIN" plan "$WORK/1001.yaml" --against "$WORK/before" --format json > "$WORK/plan.json" || true
python3 - "$WORK/plan.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
text = json.dumps(plan)
print("plan names the newcomer:", "newcomer" in text)
ids = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("logical_id", "logicalId") and isinstance(x, str):
                ids.add(x)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(plan)
print("logical IDs in the plan:", sorted(ids))
PY

if [ -n "${SANDBOXC_VENV:-}" ]; then
    cd "$WORK/out1000"
    s=$(date +%s)
    "$SANDBOXC_VENV/bin/cfn-lint" --include-checks I --regions us-east-1 --format parseable -- *.template.json \
        && echo "cfn-lint (informational checks included), 1,000 users: clean ($(( $(date +%s) - s )) s)"
    s=$(date +%s)
    BC_SKIP_MAPPING=TRUE "$SANDBOXC_VENV/bin/checkov" --directory . --framework cloudformation --quiet --compact \
        --skip-download --output json > "$WORK/checkov.json" || true
    python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['summary']; print('checkov, 1,000 users: failed', s['failed'], 'passed', s['passed'], 'skipped', s['skipped'])" "$WORK/checkov.json"
    echo "checkov took $(( $(date +%s) - s )) s"
fi
