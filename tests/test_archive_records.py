"""Records fit for an archive (issue 11 §3-4): every PDF handed out is PDF/A-3b with its data
attached as JSON, a title block, 第 N 页 / 共 M 页 and a signature block from the history; it is
signed with the company's key (PAdES) and registered with the SHA-256 of the exact bytes, in
the transaction of its audit row; the verifier tells an issued record from a changed one, an
unregistered one and a foreign one, with the reason."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pikepdf
from conftest import login_fast
from pypdf import PdfReader, PdfWriter
from test_credit_pdf import decided  # noqa: F401  (fixture: a decided application)
from test_pdf import font_names, pdf_text

from intranet.archive import issue, verify
from intranet.core import clock
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, CreditApplication, IssuedDocument


def _download(app, client, staff, application_id, role=Role.GENERAL_MANAGER):
    login_fast(client, app, staff[role])
    response = client.get(f"/sales/credit/{application_id}/pdf")
    assert response.status_code == 200
    return response.get_data()


def test_issued_pdf_is_pdfa3b_with_embedded_fonts_json_and_signature(app, client, staff,
                                                                      decided):  # noqa: F811
    data = _download(app, client, staff, decided)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "3" and meta.get("pdfaid:conformance") == "B"
        fonts = []
        for page in pdf.pages:
            for _, font in page.Resources.get("/Font", {}).items():
                descendants = font.get("/DescendantFonts")
                target = descendants[0] if descendants is not None else font
                fonts.append(target.FontDescriptor)
        assert fonts and all(("/FontFile2" in d or "/FontFile3" in d or "/FontFile" in d)
                             for d in fonts)
        assert str(pdf.Root.AcroForm.Fields[0].FT) == "/Sig"
    attached = json.loads(PdfReader(io.BytesIO(data)).attachments["record.json"][0])
    with app.app_context():
        application = db.session.get(CreditApplication, decided)
        assert attached["number"] == application.number
        assert attached["version"] == application.version
        assert attached["data"]["record"]["approved_limit"] == "250000.00"
        assert [h["event"] for h in attached["data"]["history"]] == ["forward", "approve"]
    assert any("Noto-Sans-CJK-SC" in name for name in font_names(data))


def test_issued_pdf_has_title_block_page_numbers_and_signatures_from_history(
        app, client, staff, decided):  # noqa: F811
    text = pdf_text(_download(app, client, staff, decided)).replace("\n", " ")
    assert "第 1 页 / 共 1 页" in text
    assert "示例贸易有限公司" in text or "公司" in text.split("客户资信额度审批表")[0]
    for label in ("经办", "审核", "批准"):
        assert label in text
    # 审核: the manager who forwarded; 批准: the GM who approved
    assert staff[Role.SALES_MANAGER].username.title() in text
    assert staff[Role.GENERAL_MANAGER].username.title() in text


def test_every_hand_out_is_registered_with_its_audit_row(app, client, staff,
                                                        decided):  # noqa: F811
    import hashlib
    data = _download(app, client, staff, decided, role=Role.ARCHIVIST)
    with app.app_context():
        row = db.session.scalar(db.select(IssuedDocument))
        assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data)
        assert (row.record_type, row.record_id) == ("credit_application", decided)
        assert row.issued_to_id == staff[Role.ARCHIVIST].id
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "export", AuditEntry.object_type == "credit_application"))
        assert json.loads(entry.details)["sha256"] == row.sha256


def test_same_unchanged_record_gives_same_content_apart_from_generation_time(
        app, client, staff, decided):  # noqa: F811
    first = _download(app, client, staff, decided)
    clock.freeze(datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
    second = _download(app, client, staff, decided)

    def content(data):
        lines = [line for line in pdf_text(data).splitlines() if "生成时间" not in line]
        return lines, PdfReader(io.BytesIO(data)).attachments["record.json"][0]
    assert content(first) == content(second)
    assert first != second  # the generation time and the signature differ


def test_verify_an_issued_pdf_names_record_version_time_and_recipient(
        app, client, staff, decided):  # noqa: F811
    data = _download(app, client, staff, decided, role=Role.ARCHIVIST)
    with app.app_context():
        verdict = verify.verify(data)
        assert verdict.outcome == verify.ISSUED
        assert verdict.document.issued_to_id == staff[Role.ARCHIVIST].id
        assert verdict.document.record_id == decided


def test_verify_refuses_one_changed_byte(app, client, staff, decided):  # noqa: F811
    data = bytearray(_download(app, client, staff, decided))
    where = data.index(b"stream", len(data) // 3) + 40
    data[where] ^= 0x01
    with app.app_context():
        verdict = verify.verify(bytes(data))
    assert verdict.outcome == verify.REFUSED and verdict.reason == verify.BROKEN


def test_verify_refuses_content_added_after_signing(app, client, staff,
                                                    decided):  # noqa: F811
    data = _download(app, client, staff, decided)
    with app.app_context():
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        writer.root["/PageLabels"] = generic.DictionaryObject()
        writer.update_root()
        out = io.BytesIO()
        writer.write(out)
        verdict = verify.verify(out.getvalue())
    assert verdict.outcome == verify.REFUSED and verdict.reason == verify.CHANGED_AFTER


def test_verify_refuses_a_page_removed(app, client, staff, make_customer,
                                       make_application):
    from intranet.archive.records import record_type
    cid = make_customer("北京长页面科技有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="approved",
                           reason="很长的说明。" * 900)
    with app.test_request_context():
        application = db.session.get(CreditApplication, aid)
        signed = issue.render_signed(issue.document(record_type("credit_application"),
                                                    application))
        assert len(PdfReader(io.BytesIO(signed.content)).pages) > 1
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(signed.content)))
        writer.remove_page(1)
        out = io.BytesIO()
        writer.write(out)
        verdict = verify.verify(out.getvalue())
    assert verdict.outcome == verify.REFUSED
    assert verdict.reason in (verify.BROKEN, verify.CHANGED_AFTER)


def test_verify_tells_a_pdf_made_elsewhere(app, tmp_path):
    from intranet.archive import keys
    from intranet.pdf import render_pdf
    ours = app.config["ARCHIVE_KEY_FILE"], app.config["ARCHIVE_CERT_FILE"]
    with app.test_request_context():
        unsigned = render_pdf('<html lang="zh-CN"><body><p>别处生成的文件</p></body></html>')
        assert verify.verify(unsigned).reason == verify.NOT_SIGNED
        assert verify.verify(b"hello").reason == verify.NOT_A_PDF
        keys.create("别的公司", tmp_path / "k.pem", tmp_path / "c.pem")
        app.config.update(ARCHIVE_KEY_FILE=str(tmp_path / "k.pem"),
                          ARCHIVE_CERT_FILE=str(tmp_path / "c.pem"))
        foreign = issue.sign(unsigned, "X-1")
        app.config.update(ARCHIVE_KEY_FILE=ours[0], ARCHIVE_CERT_FILE=ours[1])
        assert verify.verify(foreign).reason == verify.FOREIGN


def test_verify_signed_by_us_but_not_registered(app, make_customer, make_application,
                                               staff):
    from intranet.archive.records import record_type
    cid = make_customer("广州未登记贸易有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="approved")
    with app.test_request_context():
        signed = issue.render_signed(issue.document(
            record_type("credit_application"), db.session.get(CreditApplication, aid)))
        assert verify.verify(signed.content).outcome == verify.UNREGISTERED


def test_verify_command_and_page(app, client, staff, decided, tmp_path):  # noqa: F811
    data = _download(app, client, staff, decided, role=Role.ARCHIVIST)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    bad.write_bytes(data[:-200] + b"x" * 200)
    with app.app_context():
        number = db.session.get(CreditApplication, decided).number
    result = app.test_cli_runner().invoke(args=["archive", "verify", str(good)])
    assert result.exit_code == 0 and "unmodified record" in result.output
    assert number in result.output and staff[Role.ARCHIVIST].username.title() in result.output
    result = app.test_cli_runner().invoke(args=["archive", "verify", str(bad)])
    assert result.exit_code == 1 and "refused" in result.output

    login_fast(client, app, staff[Role.SALES_REP])
    from conftest import csrf_token
    token = csrf_token(client)
    page = client.post("/archive/verify", data={"csrf_token": token, "file": (
        io.BytesIO(data), "记录.pdf")}, content_type="multipart/form-data")
    assert page.status_code == 200 and 'data-testid="verdict-issued"' in page.text
    assert number in page.text
    page = client.post("/archive/verify", data={"csrf_token": token, "file": (
        io.BytesIO(b"not a pdf"), "x.pdf")}, content_type="multipart/form-data")
    assert 'data-testid="verdict-refused"' in page.text and "不是" in page.text
    page = client.post("/archive/verify", data={"csrf_token": token, "file": (
        io.BytesIO(b"text"), "x.txt")}, content_type="multipart/form-data")
    assert page.status_code == 422


def test_missing_signing_key_is_a_clear_503_and_nothing_registered(app, client, staff,
                                                                   decided):  # noqa: F811
    app.config["ARCHIVE_KEY_FILE"] = "/nonexistent/key.pem"
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = client.get(f"/sales/credit/{decided}/pdf")
    assert response.status_code == 503 and "签章" in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(IssuedDocument.id))) == 0


def test_no_pdf_leaves_except_through_the_registry():
    """Every route that sends a PDF goes through issue.hand_out / issue.download: no
    blueprint builds a PDF response of its own (a new one that bypassed the registry and
    the signature would fail here)."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "intranet" / "blueprints"
    offending = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "application/pdf" in path.read_text(encoding="utf-8")
                 or "render_pdf(" in path.read_text(encoding="utf-8")]
    assert offending == []


def test_27_private_key_lives_outside_the_database_and_the_repository(
        app, client, staff, decided, tmp_path):  # noqa: F811
    """SECURITY.md 27: `flask archive keys` writes the key readable by its owner only, in the
    instance folder (ignored by git); after a PDF is issued no table holds key material."""
    import stat
    import subprocess
    from pathlib import Path

    from sqlalchemy import String, Text, select

    _download(app, client, staff, decided)
    key_file = Path(app.config["ARCHIVE_KEY_FILE"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    app.config.update(ARCHIVE_KEY_FILE=str(tmp_path / "k.pem"),
                      ARCHIVE_CERT_FILE=str(tmp_path / "c.pem"))
    result = app.test_cli_runner().invoke(args=["archive", "keys"])
    assert result.exit_code == 0 and stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    root = Path(__file__).resolve().parent.parent
    ignored = subprocess.run(["git", "check-ignore", "-q", "instance/archive-signing-key.pem"],
                             cwd=root)
    assert ignored.returncode == 0
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, (String, Text)):
                    found = db.session.scalar(select(column).where(
                        column.contains("PRIVATE KEY")).limit(1))
                    assert found is None, f"{table.name}.{column.name}"


def test_signing_and_verifying_work_in_a_thread_that_runs_an_event_loop(app):
    """pyhanko's synchronous calls start an event loop of their own; under an async server
    (or Playwright's sync API in this suite) one already runs in the thread."""
    import asyncio

    from intranet.pdf import render_pdf

    async def inside_a_loop():
        with app.test_request_context():
            unsigned = render_pdf('<html lang="zh-CN"><body><p>事件循环</p></body></html>')
            signed = issue.sign(unsigned, "X-1")
            return verify.verify(signed)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: its loop runs inside_a_loop
        verdict = pool.submit(asyncio.run, inside_a_loop()).result()
    assert verdict.outcome == verify.UNREGISTERED
