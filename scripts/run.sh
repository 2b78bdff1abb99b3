#!/usr/bin/env bash
# Set up and start the dashboard on http://127.0.0.1:8050 (HOST, PORT, DATABASE_URL override).
# On a fresh machine with only python3: makes its own virtualenv in .venv (see scripts/venv.sh),
# installs the package into it, starts the app and says where it is once it answers.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv ""

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8050}"
export HOST PORT
step "Khởi động / starting the dashboard (lần đầu: tạo cơ sở dữ liệu và nạp dữ liệu minh họa / first start: database and demo)"
"$VENV_PY" app.py &
app=$!
trap 'kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true' INT TERM
shown="$HOST"; [ "$HOST" = "0.0.0.0" ] && shown="127.0.0.1"
"$VENV_PY" - "$shown" "$PORT" "$app" <<'PY' || true
import os, sys, time, urllib.request
host, port, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = f"http://{host}:{port}"
started = time.monotonic()
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)  # the app stopped: its own message says why
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=5) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    time.sleep(1)
print(f"\n==> Dashboard sẵn sàng / ready: {url}   (Ctrl+C để dừng / to stop; "
      f"{time.monotonic() - started:.0f} s)\n", flush=True)
PY
wait "$app"
