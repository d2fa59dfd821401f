"""The archive's document pages: verify an uploaded PDF."""
from intranet.blueprints.archive import bp  # noqa: F401
