"""Search helpers: what the user typed is matched literally (% and _ are not wildcards)."""


def contains(column, text: str):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
