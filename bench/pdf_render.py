"""Time the signed PDF record of a credit application (客户资信额度审批表) against WeasyPrint
rendering the same final HTML directly, in one process.

    /tmp/venv/bin/python bench/pdf_render.py [--renders 10]     # or: bash bench/run.sh pdf

A throwaway database (bench/out/pdf.sqlite3, made anew each run) gets one application driven
through the real workflow by engine.fire: submitted by a rep, forwarded by the sales manager,
returned by the general manager, submitted and forwarded again, approved (six history rows).
Then, signed in as the general manager inside a test request context, each variant is run
once to warm up and --renders times measured:

- context:    intranet.blueprints.sales.credit.workflow_context(application)
- record:     intranet.pdf.render_record("pdf/credit_application.html", number, **context),
              what GET /sales/credit/<id>/pdf does (Jinja body + footer, fetcher, gc)
- render_pdf: intranet.pdf.render_pdf(html) on the final HTML record() produced
- direct:     weasyprint.HTML(string=html, base_url=...).write_pdf() on that same HTML with
              WeasyPrint's own URL fetcher; the stylesheet (/static/pdf/record.css) comes from
              a local HTTP server over the static folder, so both render the same document
- gc:         the gc.collect() render_pdf runs after each PDF, timed after a direct render
"""
from __future__ import annotations

import argparse
import gc
import http.server
import io
import logging
import os
import random
import statistics
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
OUT = HERE / "out"
OUT.mkdir(exist_ok=True)
DATABASE = OUT / "pdf.sqlite3"
os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"  # read when intranet.config is imported

from flask_login import login_user  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from intranet import create_app, credit, pdf  # noqa: E402
from intranet.blueprints.sales.credit import workflow_context  # noqa: E402
from intranet.core import passwords  # noqa: E402
from intranet.customers import credit_code  # noqa: E402
from intranet.extensions import db  # noqa: E402
from intranet.models import CreditApplication, Customer, Department, User, UserRole  # noqa: E402
from intranet.workflows import engine  # noqa: E402

TEMPLATE = "pdf/credit_application.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
    app = create_app()
    # The app logs WeasyPrint at INFO: 8 "weasyprint.progress" lines per PDF. Kept quiet here
    # for a readable report (their cost is well under a millisecond per record).
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
        application_id, gm_id = seed_application(app)
    server, base_url = static_server(Path(app.static_folder))
    try:
        with app.test_request_context("/"):
            login_user(db.session.get(User, gm_id), fresh=True)
            application = db.session.get(CreditApplication, application_id)
            measure(application, base_url, args.renders)
    finally:
        server.shutdown()
        server.server_close()


def seed_application(app) -> tuple[int, int]:
    """One application through the workflow, as in production; returns (its id, the GM's)."""
    dept = Department(code="east", name_zh="华东销售部", name_en="Sales East")
    db.session.add(dept)
    db.session.flush()
    hashed = passwords.hash_password("bench-password-2026")
    people = {}
    for username, name, role, department in (
            ("rep", "王晓明", "sales_rep", dept.id),
            ("manager", "李建国", "sales_manager", dept.id),
            ("gm", "陈志强", "general_manager", None)):
        people[role] = User(username=username, display_name=name, department_id=department,
                            password_hash=hashed, role_rows=[UserRole(role=role)])
        db.session.add(people[role])
    db.session.flush()
    rep, manager, gm = people["sales_rep"], people["sales_manager"], people["general_manager"]
    customer = Customer(name="上海华东精密机械制造股份有限公司",
                        credit_code=credit_code.generate(random.Random(1)), region="上海",
                        relation="customer", tier="key", owner_id=rep.id, department_id=dept.id,
                        sales_12m=Decimal("3861250.00"), sales_prev_12m=Decimal("3120400.00"),
                        payment_method="acceptance")
    db.session.add(customer)
    db.session.flush()
    application = CreditApplication(
        customer_id=customer.id, department_id=dept.id, applicant_id=rep.id, state="draft",
        period_start=credit.next_quarter_start(date.today()), grade="1",
        proposed_limit=Decimal("640000.00"),
        reason="客户近两年回款稳定，承兑汇票按期兑付；新签年度框架合同，预计下季度订单增长约三成，"
               "申请将额度由 50 万元提高至 64 万元。",
        annual_sales=Decimal("3861250.00"), monthly_sales=Decimal("321770.83"),
        payment_method="acceptance", payment_rate=Decimal("97.40"),
        receivables=Decimal("412380.50"))
    db.session.add(application)
    db.session.flush()
    with app.test_request_context("/"):
        for event, user, data in (
                ("submit", rep, {}), ("forward", manager, {"comment": "同意，请总经理审批。"}),
                ("return_for_revision", gm, {"comment": "请补充新合同的付款条件和首批订单金额。"}),
                ("submit", rep, {"comment": "已补充合同付款条件：承兑汇票，账期 60 天。"}),
                ("forward", manager, {}),
                ("approve", gm, {"comment": "同意按 60 万元执行，下季度复核。",
                                 "amount": "600000"})):
            engine.fire(application, event, user=user, **data)
    db.session.commit()
    return application.id, gm.id


def static_server(static_root: Path):
    """A local HTTP server answering /static/<path> from the app's static folder, for the
    direct WeasyPrint run (its own fetcher cannot read a root-relative link from a file://
    base URL)."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            return super().translate_path(path.removeprefix("/static"))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Handler, directory=str(static_root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def final_html(application, context: dict) -> str:
    """The HTML render_record hands to render_pdf, captured from render_record itself."""
    captured: list[str] = []
    original = pdf.render_pdf
    pdf.render_pdf = lambda html: captured.append(html) or b""
    try:
        pdf.render_record(TEMPLATE, application.number, **context)
    finally:
        pdf.render_pdf = original
    return captured[0]


def describe_pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return f"{len(data):,} bytes, {len(reader.pages)} page(s), fonts {', '.join(sorted(fonts))}"


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def measure(application, base_url: str, renders: int) -> None:
    """One warm-up of each variant, then `renders` rounds running each variant once in turn
    (noise on a shared machine spreads over all of them alike)."""
    import weasyprint

    context = workflow_context(application)
    html = final_html(application, context)

    # name: (untimed preparation, timed call)
    variants = {
        "context": (None, lambda: workflow_context(application)),
        "record": (None, lambda: pdf.render_record(TEMPLATE, application.number, **context)),
        "render_pdf": (None, lambda: pdf.render_pdf(html)),
        # WeasyPrint alone, from a clean heap as render_pdf leaves it
        "direct": (gc.collect, lambda: weasyprint.HTML(string=html, base_url=base_url)
                   .write_pdf()),
        # right after the direct render: what render_pdf's own gc.collect() costs
        "gc": (None, gc.collect),
    }
    results: dict[str, tuple[list[float], object]] = {}
    for name, (prepare, call) in variants.items():  # warm-up
        if prepare:
            prepare()
        results[name] = ([], call())
    for _ in range(renders):
        for name, (prepare, call) in variants.items():
            if prepare:
                prepare()
            began = time.perf_counter()
            call()
            results[name][0].append(time.perf_counter() - began)

    record_pdf, direct_pdf = results["record"][1], results["direct"][1]
    print(f"\nrecord {application.number} ({application.state}, "
          f"{len(context['history'])} history rows); final HTML {len(html):,} characters; "
          f"WeasyPrint {weasyprint.__version__}; fast subsetting "
          f"{'on' if pdf.fast_subsetting_available() else 'OFF'}; {os.cpu_count()} cores; "
          f"1 warm-up + {renders} interleaved renders each")
    print(f"  record: {describe_pdf(record_pdf)}")
    print(f"  direct: {describe_pdf(direct_pdf)}")
    same = pdf_text(record_pdf) == pdf_text(direct_pdf)
    print(f"  same text in both: {'yes' if same else 'NO'}\n")
    print(f"{'variant':<14}{'mean ms':>10}{'median ms':>11}{'min ms':>9}{'max ms':>9}"
          f"{'mean vs direct':>16}{'median vs direct':>18}")
    base = results["direct"][0]
    for name, (times, _) in results.items():
        ms = [t * 1000 for t in times]
        print(f"{name:<14}{statistics.mean(ms):>10.1f}{statistics.median(ms):>11.1f}"
              f"{min(ms):>9.1f}{max(ms):>9.1f}"
              f"{statistics.mean(times) / statistics.mean(base):>16.3f}"
              f"{statistics.median(times) / statistics.median(base):>18.3f}")


if __name__ == "__main__":
    main()
