#!/usr/bin/env bash
# Set up and run the whole test suite: SQLite and PostgreSQL, and headless Chromium.
# Makes its own virtualenv in .venv (see scripts/venv.sh) with the test extra.
set -euo pipefail
cd "$(dirname "$0")/.."
# Browser tests and image exports need Debian's Chromium (no browser downloads here).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  printf '==> %s\n' "Cài Chromium / installing Chromium (apt-get)"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium chromium-driver fonts-noto-core fontconfig
fi
. scripts/venv.sh
ensure_venv "[test]"
step "Chạy kiểm thử / running the tests"
exec "$VENV_PY" -m pytest "$@"
