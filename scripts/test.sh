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
# axe-core for tests/test_accessibility.py (npm, into tests/.axe; not part of the app).
if [ ! -f tests/.axe/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm
  fi
  if command -v npm >/dev/null 2>&1; then
    npm install --no-save --no-audit --no-fund --silent --prefix tests/.axe axe-core@4
  else
    echo "npm not found: the accessibility tests will be skipped (CI=true makes them fail)" >&2
  fi
fi
step "Chạy kiểm thử / running the tests"
exec "$VENV_PY" -m pytest "$@"
