"""Real-browser fixtures: the app served on a free localhost port, Debian's Chromium driven
by Playwright (never a downloaded browser)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from browser.pages import sign_in

CHROMIUM = "/usr/bin/chromium"


SERVER = """
import sys
from werkzeug.serving import run_simple
from intranet import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "test-secret-key"})
run_simple("127.0.0.1", int(sys.argv[2]), app, threaded=True)
"""


@pytest.fixture
def live_server(app):
    """The app served by its own process on the test's database: what the browser does there
    (aborted downloads, open files) cannot leak into the test process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, app.config["SQLALCHEMY_DATABASE_URI"], str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("the live server did not start")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs these")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda msg: page.csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    yield page
    context.close()


@pytest.fixture
def people(browser, live_server):
    """open(username): a page in a browser context of its own, signed in with the password
    (transitions need a fresh login). Console errors, uncaught exceptions and CSP violations
    of every page are collected in open.errors / open.csp. With SHOTS=<folder> in the
    environment, each person's last page is saved there as a PNG (for looking at a failure)."""
    contexts = []
    errors: list[str] = []
    csp: list[str] = []

    def on_console(msg):
        if "Content Security Policy" in msg.text:
            csp.append(msg.text)
        elif msg.type == "error":
            errors.append(msg.text)

    def open_as(username: str):
        context = browser.new_context(base_url=live_server, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        sign_in(page, username)
        return page

    open_as.errors, open_as.csp = errors, csp
    yield open_as
    for i, context in enumerate(contexts):
        if os.environ.get("SHOTS"):
            for page in context.pages:
                page.screenshot(path=f"{os.environ['SHOTS']}/person-{i}.png", full_page=True)
        context.close()
