"""What every response of the web server carries for its safety: security headers, a session
cookie that is Secure over HTTPS, and (when a setting says so) the proxy's word on the scheme
and the client's address."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from blueprints.doors import DOCS_PATH
from service.config import Config

# No inline script or style anywhere: pages load their scripts and styles from our static files.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# JSON is never a document to render: allow it nothing.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (or PUBLIC_URL is
    https), not only when PUBLIC_URL says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (bool(request) and request.is_secure)


def init_web_security(app: Flask, config: Config) -> None:
    if config.trust_proxy:
        # Only behind a proxy we were told of: anyone can send X-Forwarded-* to a bare server.
        hops = config.trust_proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.session_interface = SessionCookies()
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    headers.setdefault("Content-Security-Policy", _policy_for(request, response))
    return response


def _policy_for(req: Request, response: Response) -> str:
    if response.mimetype != "text/html":
        return DATA_POLICY  # JSON, and assets, which a page's own policy governs
    if req.path.rstrip("/") == DOCS_PATH and not response.is_streamed:
        return _docs_policy(response)
    return PAGE_POLICY


def _docs_policy(response: Response) -> str:
    # Swagger UI's page starts the bundle with an inline script of flask-smorest's template:
    # allow exactly that script by its hash. The UI sets style attributes as it renders.
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(response.get_data())
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
