"""XLSX export shared by every list."""
import io

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
