import logging


class OneLineFormatter(logging.Formatter):
    """Keeps every record on one line: a user name with a line break cannot forge a log entry
    (SECURITY.md 21)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
