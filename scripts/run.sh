#!/usr/bin/env bash
# Set up and start the dashboard on http://127.0.0.1:8050 (HOST, PORT, DATABASE_URL override).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check -e .
exec python app.py
