"""Spreadsheets shared by every list and import: XLSX export, and reading an uploaded .xlsx or
.csv file into rows of text (the importers check the rows themselves)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from intranet.core.forms import strip_bidi
from intranet.core.i18n import lazy_gettext as _l

MAX_ROWS = 20_000

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(header: list, rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([str(h) for h in header])
    for row in rows:
        # Text that looks like a formula stays text: openpyxl writes a str starting with "="
        # as a formula, so it is prefixed the way spreadsheets expect literal text.
        sheet.append(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                      for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class ImportFileError(ValueError):
    """The file as a whole cannot be read."""


@dataclass
class Report:
    rows: int = 0
    written: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)

    def add(self, row: int, column: str, message) -> None:
        self.errors.append((row, column, str(message)))


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """Rows of cell texts from an .xlsx or .csv file (UTF-8 with or without BOM, or GBK)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK"):
            raise ImportFileError(_l("This is not an Excel (.xlsx) file."))
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            return [["" if v is None else _cell_text(v) for v in row]
                    for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # a damaged workbook: say so, do not crash
            raise ImportFileError(_l("The Excel file could not be read.")) from exc
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gbk"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError(_l("The CSV file is neither UTF-8 nor GBK text."))
        try:
            return [row for row in csv.reader(io.StringIO(text))]
        except csv.Error as exc:  # a NUL byte, say: the file is not CSV text
            raise ImportFileError(_l("The CSV file could not be read.")) from exc
    raise ImportFileError(_l("Upload an .xlsx or .csv file."))


def _cell_text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def table_rows(table, columns, report: Report):
    rows = [r for r in table if any(str(c).strip() for c in r)]
    if not rows:
        raise ImportFileError(_l("The file is empty."))
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(_l("At most %(n)s rows per file.", n=MAX_ROWS))
    header = [str(c).strip().lower() for c in rows[0]]
    index = {}
    for key, names in columns.items():
        for position, heading in enumerate(header):
            if heading in names:
                index[key] = position
    if "name" in columns and "name" not in index or "kind" in columns and "kind" not in index:
        raise ImportFileError(_l("The first row must hold the column headings (see the "
                                 "template)."))
    for number, row in enumerate(rows[1:], start=2):
        # Cells are text people read, like form fields: no bidirectional controls.
        yield number, {key: (strip_bidi(str(row[i])).strip() if i < len(row) else "")
                       for key, i in index.items()}
