"""The consumer the export tests start: the app's own (intranet.core.worker) plus the tests'
record type.  python -m huey.bin.huey_consumer export_consumer.huey (PYTHONPATH=tests)"""
from archive_export_types import register_test_type

from intranet.core.worker import huey  # noqa: F401

register_test_type()
