"""Charts drawn on the server as SVG with pygal (issue 14 §6), each with the table of its numbers.

pygal rather than matplotlib: it writes SVG directly (text stays text, so the Chinese labels are
in the CJK font and searchable in a PDF), imports in ~0.07 s against matplotlib's ~1 s with
numpy, and renders a chart in a few milliseconds. Its tooltip script is left out (our CSP
allows no inline script, and nothing is fetched from a CDN): a chart is shown as an
<img src="data:image/svg+xml;base64,…">, the same in a page and in a WeasyPrint PDF, and its
table carries the exact figures."""
from __future__ import annotations

import base64
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
COLOURS = ("#1f6fb2", "#e07b39", "#3a9d5d", "#b8453a", "#7d5ba6", "#8c8c8c")
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_ID = re.compile(r"chart-[0-9a-f-]{36}")


def _pygal():
    """pygal, imported on first use. Its import appends a finder for map plugins to
    sys.meta_path that has only the legacy find_module (gone in Python 3.12): every later
    import of a module not yet loaded then warns (an error under our tests' warnings policy).
    We use no map plugin, so the finder is taken out again."""
    import pygal

    sys.meta_path[:] = [finder for finder in sys.meta_path
                        if type(finder).__name__ != "PluginImportFixer"]
    return pygal


@dataclass
class Chart:
    """`labels` along the axis, `series` as (name, values) in the labels' order. `kind`: "bar",
    "line" or "hbar". `columns`: the table's extra columns (name, values) beside the series."""

    key: str
    title: str
    labels: list
    series: list
    kind: str = "bar"
    money: bool = False
    percent: bool = False
    columns: list = field(default_factory=list)
    note: str = ""
    show_title: bool = False  # a page's heading names the chart; a PDF's figure asks for it

    def number(self, value) -> str:
        if value is None:
            return "—"
        if self.percent:
            return f"{value:.1f}%"
        if self.money:
            return f"¥{Decimal(value):,.2f}"
        return f"{value:,}"

    def _axis(self, value) -> str:
        if self.percent:
            return f"{value:.0f}%"
        return f"¥{value:,.0f}" if self.money else f"{value:,.0f}"

    @property
    def rows(self) -> list[list[str]]:
        """The table behind the chart: a row per label, a cell per series and extra column."""
        return [[str(label)] + [self.number(values[i]) for _, values in self.series]
                + [str(values[i]) for _, values in self.columns]
                for i, label in enumerate(self.labels)]

    @property
    def header(self) -> list[str]:
        return [str(name) for name, _ in self.series] + [str(name) for name, _ in self.columns]

    @property
    def empty(self) -> bool:
        """Nothing to draw: no labels, or only zeros (pygal would draw an axis of 0, 0, 1…)."""
        return not any(v for _, values in self.series for v in values)

    def svg(self) -> str:
        """The chart; counts are drawn as integers, money as yuan, shares as percent."""
        pygal = _pygal()
        from pygal.style import Style

        style = Style(font_family=FONT, background="white", plot_background="white",
                      colors=COLOURS, title_font_size=18, label_font_size=16,
                      major_label_font_size=16, legend_font_size=16, value_font_size=15)
        chart_class = {"bar": pygal.Bar, "line": pygal.Line,
                       "hbar": pygal.HorizontalBar}[self.kind]
        chart = chart_class(
            style=style, js=[], disable_xml_declaration=True, width=640, height=320,
            explicit_size=True, show_legend=len(self.series) > 1, legend_at_bottom=True,
            x_label_rotation=0 if len(self.labels) <= 6 else 30, truncate_label=-1,
            print_values=len(self.labels) <= 6 and len(self.series) == 1 and self.kind != "hbar",
            include_x_axis=True,
            formatter=self.number, value_formatter=self._axis, margin=12,
            range=(0, 100) if self.percent else None, min_scale=2, max_scale=8,
            # the labels stand left of a horizontal chart's bars
            margin_left=12 + self._wide_label_room(16) if self.kind == "hbar" else None)
        if self.show_title:
            chart.title = str(self.title)
        # pygal stacks a horizontal chart's first label at the bottom: reversed, the chart
        # reads top-down like its table (a ranking's first row on top)
        order = (lambda items: list(items)[::-1]) if self.kind == "hbar" else list
        chart.x_labels = order(str(label) for label in self.labels)
        for name, values in self.series:
            chart.add(str(name), order(float(v) if isinstance(v, Decimal) else v
                                       for v in values))
        svg = _SCRIPT.sub("", chart.render(is_unicode=True))
        # the file's title (a browser tab's, opening the image) is the chart's, not "Pygal"
        svg = svg.replace("<title>Pygal</title>", f"<title>{escape(str(self.title))}</title>", 1)
        return _ID.sub(f"chart-{self.key}", svg)  # the same figures draw the same file

    def _wide_label_room(self, font_size: int) -> int:
        """pygal reserves 0.6 em for every character of a label; a Chinese character takes a
        whole em, so a company's name ran off the left edge. The room the widest label lacks."""
        wide = max((sum(1 for ch in str(label) if unicodedata.east_asian_width(ch) in "WF")
                    for label in self.labels), default=0)
        return int(wide * font_size * 0.45)

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(
            self.svg().encode()).decode("ascii")
