"""The shared PDF module (groundwork for the K/P/R records): Chinese text really embedded,
no foreign content, no network, signed footer."""
from __future__ import annotations

import hashlib
import io
import re
import socket

import pytest
from jinja2 import ChoiceLoader, DictLoader
from pypdf import PdfReader

from intranet import pdf

BODY = """<h1>客户资信额度审批表</h1>
<table><tr><th>客户</th><td>{{ name }}</td></tr><tr><th>额度</th><td>¥500,000.00</td></tr></table>
"""
HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="http://169.254.169.254/latest/meta-data/">',
    '<style>@import url("http://169.254.169.254/x.css");</style>',
    '<img src="/static/../../../../etc/passwd">',
    # An empty segment survives URL joining and reaches the fetcher as an absolute path.
    '<link rel="attachment" href="/static//etc/passwd">',
    '<link rel="attachment" href="/static/pdf/../../__init__.py">',
]


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def font_names(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture
def record_app(app):
    app.jinja_loader = ChoiceLoader([DictLoader({"pdf/test_body.html": BODY}),
                                     app.jinja_loader])
    return app


def test_pdf_record_contains_the_chinese_text_in_an_embedded_cjk_font(record_app, frozen):
    with record_app.test_request_context():
        data = pdf.render_record("pdf/test_body.html", "KX-2026-0001",
                                 name="上海华东精密机械有限公司")
    text = pdf_text(data)
    assert "客户资信额度审批表" in text and "上海华东精密机械有限公司" in text
    assert any("Noto-Sans-CJK-SC" in name for name in font_names(data)), font_names(data)
    assert "KX-2026-0001" in text and "2026-11-02 09:00" in text  # number, time in Shanghai
    with record_app.test_request_context():
        from flask import render_template
        expected = hashlib.sha256(render_template(
            "pdf/test_body.html", name="上海华东精密机械有限公司").encode()).hexdigest()
    assert expected in re.sub(r"\s+", "", text)


def test_pdf_hostile_content_brings_in_nothing_and_opens_no_socket(app, monkeypatch):
    opened = []

    def no_network(self, address):
        opened.append(address)
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    html = ('<!doctype html><html lang="zh-CN"><head><link rel="stylesheet" '
            'href="/static/pdf/record.css"></head><body><p>客户名称</p>'
            + "".join(HOSTILE) + "</body></html>")
    with app.test_request_context():
        data = pdf.render_pdf(html)
    reader = PdfReader(io.BytesIO(data))
    assert opened == []
    assert reader.attachments == {}
    text = pdf_text(data)
    assert "root:" not in text and "客户名称" in text
    assert b"/EmbeddedFile" not in data


@pytest.mark.parametrize("path", ["/etc/passwd", "//etc/passwd", "../__init__.py",
                                  "pdf/../../__init__.py", "pdf/../../../pyproject.toml"])
def test_pdf_fetcher_serves_nothing_outside_the_static_folder(app, path):
    from pathlib import Path

    from intranet.pdf.fetcher import STATIC_URL, LockedDownFetcher

    fetcher = LockedDownFetcher(Path(app.static_folder))
    css = fetcher.fetch(STATIC_URL + "pdf/record.css")
    assert css is not None and fetcher.fetch(STATIC_URL + "pdf/record.css?v=2") is not None
    with pytest.raises(ValueError):
        fetcher.fetch(STATIC_URL + path)


def test_fast_font_subsetting_is_available_here():
    # CI installs libharfbuzz-subset0 (./dev); without it a record takes ~11 s to subset.
    assert pdf.fast_subsetting_available()


def test_pdf_renders_in_its_own_process_under_a_time_limit(record_app, frozen):
    """SECURITY.md "PDF": a time limit. The renderer process is stopped when it runs over, the
    user gets a clear 503, and the next record renders in a fresh process."""
    record_app.config["PDF_TIMEOUT_SECONDS"] = 60
    try:
        with record_app.test_request_context():
            data = pdf.render_record("pdf/test_body.html", "KX-2026-0002", name="杭州之江有限公司")
            assert "杭州之江有限公司" in pdf_text(data)
            first = pdf._renderer._pool
            assert first is not None  # it came from the renderer process
            record_app.config["PDF_TIMEOUT_SECONDS"] = 0.001
            with pytest.raises(pdf.PdfTimeout):
                pdf.render_record("pdf/test_body.html", "KX-2026-0003", name="超时")
            assert pdf._renderer._pool is None  # stopped
            record_app.config["PDF_TIMEOUT_SECONDS"] = 60
            again = pdf.render_record("pdf/test_body.html", "KX-2026-0004", name="重新开始")
            assert "重新开始" in pdf_text(again)
    finally:
        pdf._renderer.stop()


def test_pdf_timeout_is_a_clear_503(app, client, staff, make_customer, make_application,
                                    monkeypatch):
    from conftest import login_fast

    from intranet.core.roles import Role

    def too_slow(*args):
        raise pdf.PdfTimeout()
    monkeypatch.setattr(pdf._renderer, "render", too_slow)
    app.config["PDF_TIMEOUT_SECONDS"] = 5
    cid = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="approved")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = client.get(f"/sales/credit/{aid}/pdf")
    assert response.status_code == 503
    assert "打印" in response.get_data(as_text=True)


def test_pdf_fetcher_answers_static_files_and_data_urls_as_weasyprint_expects(app, caplog):
    """What the fetcher does allow, it serves whole: the static file with its address,
    status and type (a query string ignored), and data: URLs; anything else is refused,
    named in the exception and in the log."""
    import logging
    from pathlib import Path

    from intranet.pdf.fetcher import STATIC_URL, LockedDownFetcher

    fetcher = LockedDownFetcher(Path(app.static_folder))
    url = STATIC_URL + "pdf/record.css?v=2"
    css = fetcher.fetch(url)
    assert (css.url, css.status, css.headers["Content-Type"]) == (url, 200, "text/css")
    assert b"@page" in css.read()
    assert fetcher.fetch("data:text/plain;base64,5a6i5oi3").read() == "客户".encode()
    with pytest.raises(ValueError, match=r"^not a static file: .*/static//etc/passwd$"):
        fetcher.fetch(STATIC_URL + "/etc/passwd")
    logger = logging.getLogger("intranet.pdf")
    logger.addHandler(caplog.handler)
    try:
        with pytest.raises(ValueError, match=r"^resource refused: http://169\.254\.169\.254/x$"):
            fetcher.fetch("http://169.254.169.254/x")
    finally:
        logger.removeHandler(caplog.handler)
    assert "PDF resource refused: http://169.254.169.254/x" in caplog.messages


def test_renders_collect_their_garbage_with_the_warm_heap_frozen(record_app, frozen):
    """After the first render the renderer's heap is frozen (gc.freeze), so the collection
    after each render walks only what the render created (issue 12 item 6), and that is still
    collected: renders leave no growing heap behind."""
    import gc

    def render():
        with record_app.test_request_context():
            pdf.render_record("pdf/test_body.html", "KX-2026-0002", name="上海华东精密机械有限公司")
    render()
    assert gc.get_freeze_count() > 0
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(3):
        render()
    grown = len(gc.get_objects()) - before
    assert grown < 1_000
