"""A record type for the batch-export tests (closed service cases, printed with the monthly
ledger's template), registered in the test process and in the consumer the tests start
(export_consumer.py), so the export tests do not depend on which domains have registered
theirs yet."""
from __future__ import annotations

from intranet.archive.records import RECORD_TYPES, RecordType, register
from intranet.models import ServiceCase

KEY = "test_case"


def _context(row) -> dict:
    return {"cases": [row], "month": f"{row.closed_at:%Y-%m}", "part": 1, "parts": 1,
            "figures": {"total": 1, "by_kind": {}, "repeats": 0,
                        "within_deadline_percent": None},
            "kinds": {row.kind: row.kind}, "channels": {row.channel: row.channel},
            "severities": {row.severity: row.severity}, "states": {row.state: row.state}}


def register_test_type() -> None:
    if KEY not in RECORD_TYPES:
        register(RecordType(
            key=KEY, label="投诉处理记录（测试）", model=ServiceCase,
            template="pdf/case_ledger.html", number=lambda row: row.number, context=_context,
            data=lambda row: {"number": row.number, "state": row.state},
            closed_at=ServiceCase.closed_at, customer_id=ServiceCase.customer_id,
            department_id=ServiceCase.department_id, file_prefix="case"))


def unregister_test_type() -> None:
    RECORD_TYPES.pop(KEY, None)
