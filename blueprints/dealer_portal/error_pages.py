"""The pages a browser is shown when a request fails outside a view's own answer: a URL that
names nothing (404), a method not allowed (405), a failure of ours (500), the database away
(503), in the reader's language, styled as the rest of the portal. The JSON doors answer in
JSON (blueprints/json_errors.py), which calls these for every other path."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

TITLES = {
    403: _l("You may not open this page"),
    404: _l("This page does not exist"),
    405: _l("This page cannot be used that way"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is busy for a moment"),
}
EXPLANATIONS = {
    403: _l("Ask your administrator if you think you should."),
    404: _l("Check the address, or go back to the home page."),
    405: _l("Go back and try again from the page you came from."),
    429: _l("Wait a minute, then try again."),
    500: _l("It has been noted. Try again in a moment; nothing you sent was half saved."),
    503: _l("Try again in a few seconds."),
}


def error_page(error: HTTPException):
    if error.response is not None:  # one made for it already (a rate limit's own page)
        return error.response
    status = error.code or 500
    page = render_template(
        "portal/error_page.html",
        status=status,
        title=TITLES.get(status, TITLES[500 if status >= 500 else 404]),
        explanation=EXPLANATIONS.get(status, EXPLANATIONS[500 if status >= 500 else 404]),
        html_lang=str(get_locale() or "en").replace("_", "-"),
        # No count in the navigation: the failure may be the database's.
        attention_badge=None,
    )
    headers = {"Retry-After": "5"} if status == 503 else {}
    return page, status, headers


def init_error_pages(app: Flask) -> None:
    app.extensions["error_page"] = error_page
