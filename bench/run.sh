#!/usr/bin/env bash
# Benchmark of issue 3: seeds 100,000 customers and 1,000,000 transactions (once), then
# measures the customer search and page under gunicorn against a bare Flask table.
#   bash bench/run.sh credit   the GM's credit approval queue on that data plus 2,000
#                              received applications (bench/credit_queue.py)
#   bash bench/run.sh pdf      the signed PDF record of a credit application against
#                              WeasyPrint alone (bench/pdf_render.py)
#   bash bench/run.sh cases    the case ledger and queues on that data plus 50,000 service
#                              cases, and the monthly ledger PDF of 2,000 (bench/cases.py)
#   bash bench/run.sh resources  `flask jobs run` with the reclaim rules on over that data
#                              (owners, pool, requests), then the pool page, the requests
#                              list and the reclaim batches (bench/resources.py)
#   bash bench/run.sh export   a batch export of 1,000 archive records on the task's two
#                              renderer processes against WeasyPrint in one process
#                              (bench/archive_export.py)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || ./dev lint >/dev/null  # sets the environment up
"$VENV/bin/pip" install -q gunicorn
case "${1:-}" in
  credit) shift; "$VENV/bin/python" bench/seed.py
          exec "$VENV/bin/python" bench/credit_queue.py "$@" ;;
  cases) shift; "$VENV/bin/python" bench/seed.py
         exec "$VENV/bin/python" bench/cases.py "$@" ;;
  resources) shift; "$VENV/bin/python" bench/seed.py
             exec "$VENV/bin/python" bench/resources.py "$@" ;;
  pdf) shift; exec "$VENV/bin/python" bench/pdf_render.py "$@" ;;
  export) shift; exec "$VENV/bin/python" bench/archive_export.py "$@" ;;
esac
"$VENV/bin/python" bench/seed.py "$@"
exec "$VENV/bin/python" bench/run.py
