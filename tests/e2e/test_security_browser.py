"""In a real browser: the Content-Security-Policy lets the case page draw its diagram with no
violation, and signing out ends the session for a copy of its cookie too."""

from __future__ import annotations

from typing import Any


def test_the_case_diagram_draws_under_the_content_security_policy(sign_in) -> None:
    page = sign_in("alex")
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    response = page.goto("/cases")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator("td a[href^='/cases/']").first.click()
    page.wait_for_load_state()
    if page.locator("script[src*='bpmn-navigated-viewer']").count():
        page.locator(".diagram svg").first.wait_for()
    assert not [m for m in messages if "Content Security Policy" in m]


def test_a_copied_cookie_stops_working_after_sign_out(sign_in, browser: Any, server: str) -> None:
    page = sign_in("sam")
    cookies = page.context.cookies()
    assert cookies
    assert not any(c["secure"] for c in cookies)  # the e2e server serves plain http
    copy = browser.new_context(base_url=server)
    try:
        copy.add_cookies(cookies)
        other = copy.new_page()
        other.goto("/")
        assert "/login" not in other.url  # the copy works while the session lives
        page.click("button:has-text('Sign out')")
        page.wait_for_url(f"{server}/login")
        other.goto("/")
        assert "/login" in other.url
    finally:
        copy.close()
