#!/usr/bin/env bash
# cfn-lint (informational checks included) and checkov on a 1,000-user synth output (issue 15):
# both must be clean. Too slow for the test command (cfn-lint reads 40 templates with 3,000
# per-user resources), so a script; tests/compile/lint.rs runs the same tools on every example.
# Usage: scripts/lint-scale.sh [USERS]   (default 1000)
#   SANDBOXC_VENV: the venv with cfn-lint and checkov (default /root/.cache/sandboxc/helper-venv)
#   SANDBOXC_BIN: the sandboxc binary (default: the shared release target's, else
#   $CARGO_TARGET_DIR/release/sandboxc, else $CARGO_TARGET_DIR/debug/sandboxc)
set -euo pipefail
USERS="${1:-1000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${SANDBOXC_VENV:-/root/.cache/sandboxc/helper-venv}"
BIN="${SANDBOXC_BIN:-/root/.cache/sandboxc/target-release/release/sandboxc}"
for b in "$BIN" "${CARGO_TARGET_DIR:-$ROOT/target}/release/sandboxc" "${CARGO_TARGET_DIR:-$ROOT/target}/debug/sandboxc"; do
    if [ -x "$b" ]; then BIN="$b"; break; fi
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
source "$ROOT/scripts/scale-blueprint.sh"
scale_blueprint "$USERS" > "$WORK/bp.yaml"
"$BIN" -q synth "$WORK/bp.yaml" --out "$WORK/out"
cd "$WORK/out"
echo "binary: $BIN; $(ls ./*.template.json | wc -l) templates for $USERS users"
status=0
s=$(date +%s)
if "$VENV/bin/cfn-lint" --include-checks I --regions us-east-1 --format parseable -- ./*.template.json > "$WORK/cfn-lint.txt" 2>&1; then
    echo "cfn-lint $("$VENV/bin/cfn-lint" --version) (informational checks included): clean ($(($(date +%s) - s)) s)"
else
    echo "cfn-lint found problems ($(($(date +%s) - s)) s):"; head -50 "$WORK/cfn-lint.txt"; status=1
fi
s=$(date +%s)
BC_SKIP_MAPPING=TRUE "$VENV/bin/checkov" --directory . --framework cloudformation --quiet --compact \
    --skip-download --output json > "$WORK/checkov.json" 2> "$WORK/checkov.err" || true
python3 - "$WORK/checkov.json" "$(($(date +%s) - s))" <<'PY' || status=1
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
summary = [r.get("summary", {}) for r in reports]
passed = sum(s.get("passed", 0) for s in summary)
skipped = sum(s.get("skipped", 0) for s in summary)
print(f"checkov: {len(failed)} failed, {passed} passed, {skipped} skipped ({sys.argv[2]} s)")
for c in failed[:30]:
    print("  ", c.get("check_id"), c.get("file_path"), c.get("resource"))
sys.exit(1 if failed else 0)
PY
exit $status
