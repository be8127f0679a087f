"""Security headers on every answer, and `Cache-Control: no-store` on every answer that is not
a static asset: pages and API answers carry PHI, and a shared workstation's browser cache or
an intermediary must not keep them.

The policy allows scripts from this origin only (no inline script, no eval). Styles may be
inline because the diagram viewer (bpmn-js) sets style attributes on the SVG it draws."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask, *, https: bool) -> None:
    app.after_request(_secure_headers)
    if https:
        # Only where cookies are Secure (i.e. served over HTTPS): HSTS over plain http on a
        # developer's loopback would be ignored at best.
        HSTS = "max-age=31536000; includeSubDomains"

        def _hsts(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
            return response

        app.after_request(_hsts)
