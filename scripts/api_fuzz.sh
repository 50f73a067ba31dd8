#!/usr/bin/env bash
# API fuzzing (SECURITY.md S18): schemathesis against the OpenAPI document of a demo server, as
# each role. Needs the built binary ($PEIXUN_BIN, default $CARGO_TARGET_DIR/debug/peixun).
#   bash scripts/api_fuzz.sh                       # 4 random examples per operation and role
#   PEIXUN_FUZZ_EXAMPLES=50 bash scripts/api_fuzz.sh
# Makes (once) a venv with a pinned schemathesis: /var/cache/peixun-venv, or under the target dir.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export PEIXUN_BIN="${PEIXUN_BIN:-$CARGO_TARGET_DIR/debug/peixun}"

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi

venv="${PEIXUN_VENV:-/var/cache/peixun-venv}"
if ! { [ -x "$venv/bin/python" ] || { mkdir -p "$venv" 2>/dev/null && [ -w "$venv" ]; }; }; then
  venv="$CARGO_TARGET_DIR/peixun-venv"
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" \
     != "$SCHEMATHESIS_VERSION" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

export SCHEMATHESIS="$venv/bin/schemathesis"
exec "$venv/bin/python" scripts/api_fuzz.py "$@"
