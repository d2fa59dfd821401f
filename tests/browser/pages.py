"""Steps shared by the browser tests."""
from __future__ import annotations

from conftest import PASSWORD


def sign_in(page, username: str) -> None:
    """The password sign-in: a fresh login, which approvals and transitions require."""
    page.goto("/")
    assert "/auth/login" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
