#!/usr/bin/env bash
# Benchmark of issue 12: every list page, the search, the customer page and the queues at
# 100,000 customers and 1,000,000 transactions (seeded once, with the other workflows' data
# on top) under gunicorn against a bare Flask table; one table per database (bench/run.py).
#   bash bench/run.sh          on SQLite (bench/out/all.sqlite3)
#   bash bench/run.sh pg       on a throwaway PostgreSQL cluster started here (pg_virtualenv),
#                              seeded afresh each time
#   bash bench/run.sh credit   the GM's credit approval queue on that data plus 2,000
#                              received applications (bench/credit_queue.py)
#   bash bench/run.sh pdf      the signed PDF record of a credit application against
#                              WeasyPrint alone (bench/pdf_render.py)
#   bash bench/run.sh cases    the case ledger and queues on that data plus 50,000 service
#                              cases, and the monthly ledger PDF of 2,000 (bench/cases.py)
#   bash bench/run.sh resources  `flask jobs run` with the reclaim rules on over that data
#                              (owners, pool, requests), then the pool page, the requests
#                              list and the reclaim batches (bench/resources.py)
#   bash bench/run.sh reports [pg]  the report package's figures per report and section, and
#                              the report page, against the bare page (bench/reports.py)
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
  reports) shift
           if [ "${1:-}" = pg ]; then
             exec pg_virtualenv -t -o shared_buffers=512MB -o work_mem=16MB sh -c \
               'DATABASE_URL="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE" \
                "$0/bin/python" bench/reports.py' "$VENV"
           fi
           exec "$VENV/bin/python" bench/reports.py "$@" ;;
  export) shift; exec "$VENV/bin/python" bench/archive_export.py "$@" ;;
  pg) shift
      # -t: the cluster lives in a temporary directory even as root; the server's memory is
      # a small production's, not the packaged default of 128 MB.
      exec pg_virtualenv -t -o shared_buffers=512MB -o work_mem=16MB sh -c \
        'DATABASE_URL="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE" \
         "$0/bin/python" bench/run.py' "$VENV" ;;
esac
"$VENV/bin/python" bench/seed.py "$@"
exec "$VENV/bin/python" bench/run.py
