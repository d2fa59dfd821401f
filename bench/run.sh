#!/usr/bin/env bash
# Benchmark of issue 3: seeds 100,000 customers and 1,000,000 transactions (once), then
# measures the customer search and page under gunicorn against a bare Flask table.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || ./dev lint >/dev/null  # sets the environment up
"$VENV/bin/pip" install -q gunicorn
"$VENV/bin/python" bench/seed.py "$@"
exec "$VENV/bin/python" bench/run.py
