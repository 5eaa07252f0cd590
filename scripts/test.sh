#!/usr/bin/env bash
# The whole sandboxc test suite, on a fresh machine or a warm one.
#
# 1. Installs the pinned Python tools the tests call into a venv outside the clone
#    ($SANDBOXC_VENV, default ~/.cache/sandboxc/venv), if missing: cfn-lint 1.58.0, checkov
#    3.3.30, moto[server] 5.2.5 (the local AWS emulator), duckdb 2.0.0 (the audit SQL tests),
#    ziglang and cargo-zigbuild (Lambda
#    packaging for glibc 2.17). One venv per machine: every clone links the Lambdas with the
#    same zig wrapper, so the release build of the Lambda crate's dependencies is reused.
# 2. Checks the formatting (`cargo fmt --check`) and the lints (`cargo clippy -D warnings`).
# 3. Starts the moto server on a free loopback port for the emulator tests, and stops it on exit.
# 4. Runs every test of the workspace (`cargo test --workspace --locked`).
#
# Builds go to one persistent target directory outside the clone ($CARGO_TARGET_DIR, default
# ~/.cache/sandboxc/target), so repeated runs and CI reuse the compiled AWS SDK crates.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandboxc/target}"
mkdir -p "$CARGO_TARGET_DIR"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/sandboxc"
venv="${SANDBOXC_VENV:-$cache/venv}"
pins=(cfn-lint==1.58.0 checkov==3.3.30 "moto[server]==5.2.5" duckdb==2.0.0 ziglang==0.17.1 cargo-zigbuild==0.24.1)
installed() {
    [ -x "$venv/bin/python" ] || return 1
    "$venv/bin/python" - "${pins[@]}" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    name = name.split("[")[0]
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}
if ! installed; then
    echo "test.sh: installing ${pins[*]} into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
fi
export SANDBOXC_VENV="$venv"
# The Lambda packaging test builds release binaries with cargo-zigbuild: slow from cold (the AWS
# SDK in release mode), so it builds into a persistent directory beside the other builds.
export SANDBOXC_PACKAGE_TEST=1
export SANDBOXC_LAMBDA_TARGET_DIR="${SANDBOXC_LAMBDA_TARGET_DIR:-$CARGO_TARGET_DIR/lambda-package}"
# checkov must never reach out for guideline mappings: tests talk to loopback only.
export BC_SKIP_MAPPING=TRUE

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The AWS emulator, on loopback only.
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$venv/bin/python" tests/moto/server.py -H 127.0.0.1 -p "$port" >"${TMPDIR:-/tmp}/sandboxc-moto-$port.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
export SANDBOXC_MOTO_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

cargo test --workspace --locked "$@"
