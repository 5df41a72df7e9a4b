"""Signing in and out: passwords tried under rate limits, a chooser for an address used in
several chains, and sessions that end on the server's word (sign-out, 12 h idle)."""

from __future__ import annotations

import hashlib
import time
import unicodedata
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import g, make_response, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm

from blueprints import db
from blueprints.dealer_portal.forms import LoginForm
from blueprints.rate_limits import limiter
from service.chain.chains import get_chain
from service.chain.members import authenticate_member, end_sessions, get_member, normalise_login
from service.errors import NotFound

IDLE_LIMIT = timedelta(hours=12)
# Between a password found right for several chains and the choice of one.
CHOOSING_LIMIT = timedelta(minutes=5)
# "Last seen" is rewritten at most this often (seconds): not on every request.
_SEEN_EVERY = 60
FAILURES_PER_ACCOUNT = "5 per minute"
FAILURES_PER_ADDRESS = "20 per minute"
WINDOW_SECONDS = 60  # of both limits


def load_member() -> None:
    """g.member: the signed-in member, if the session is still one the server stands by."""
    g.member = None
    if not session.get("member_id"):
        return
    now = time.time()
    seen = session.get("seen")
    if not isinstance(seen, int) or now - seen > IDLE_LIMIT.total_seconds():
        session.clear()
        return
    try:
        member = get_member(db(), uuid.UUID(session["chain_id"]), uuid.UUID(session["member_id"]))
    except (KeyError, ValueError, TypeError, NotFound):
        session.clear()
        return
    if session.get("generation") != member.session_generation:  # signed out since
        session.clear()
        return
    g.member = member
    if now - seen > _SEEN_EVERY:
        session["seen"] = int(now)


def log_in(member) -> None:
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True  # the cookie, too, lapses after IDLE_LIMIT without a request
    session.update(
        member_id=str(member.id),
        chain_id=str(member.chain_id),
        generation=member.session_generation,
        seen=int(time.time()),
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the portal, else the home page. Anything that
    could leave the portal or split a header (another host, //host, backslashes, CR/LF or other
    control characters) is ignored."""
    home = url_for("dealer_portal.home")
    if not target or len(target) > 2000:
        return home
    if "\\" in target or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in target):
        return home
    try:
        parts = urlsplit(target)
    except ValueError:
        return home
    if parts.scheme or parts.netloc or target.startswith("//"):
        return home
    return target if parts.path.startswith("/portal/") else home


def _failed(response) -> bool:
    # Only failed passwords count against the limits; a success or a malformed form does not.
    return response.status_code == 401


def _account_key() -> str:
    # One account however its login is typed (a mobile with or without +86, spaces, dashes).
    typed = request.form.get("login") or ""
    login = normalise_login(typed) or typed.strip().lower()
    # Hashed: any text makes a valid Redis key, and no address is kept there in clear.
    return "account:" + hashlib.sha256(login.encode("utf-8", "surrogatepass")).hexdigest()


def _address_key() -> str:
    return "address:" + (request.remote_addr or "unknown")


def _too_many(limit):
    # limits gives the window's end in whole seconds, rounded up: never over the minute.
    retry_after = min(max(1, limit.reset_at - int(time.time())), WINDOW_SECONDS)
    minutes = -(-retry_after // 60)  # rounded up
    page = render_template(
        "portal/login.html", form=LoginForm(), retry_after=retry_after, minutes=minutes
    )
    return make_response(page, 429, {"Retry-After": str(retry_after)})


def _limited(amount: str, key_func):
    return limiter.limit(
        amount, key_func=key_func, methods=["POST"], deduct_when=_failed, on_breach=_too_many
    )


@_limited(FAILURES_PER_ACCOUNT, _account_key)
@_limited(FAILURES_PER_ADDRESS, _address_key)
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("portal/login.html", form=form), 422 if form.is_submitted() else 200
    members = authenticate_member(db(), login=form.login.data, password=form.password.data)
    if not members:
        return render_template("portal/login.html", form=form, wrong=True), 401
    target = safe_next(request.args.get("next"))
    if len(members) == 1:
        log_in(members[0])
        return redirect(target)
    # The password is right in several chains: only now may the person see which.
    session.clear()
    session["choosing"] = {
        "members": [[str(m.chain_id), str(m.id)] for m in members],
        "at": int(time.time()),
        "next": target,
    }
    return redirect(url_for("dealer_portal.choose_chain"))


def choose_chain():
    choosing = session.get("choosing")
    if not isinstance(choosing, dict) or time.time() - choosing.get("at", 0) > (
        CHOOSING_LIMIT.total_seconds()
    ):
        session.pop("choosing", None)
        return redirect(url_for("dealer_portal.login"))
    choices = []
    for chain_id, member_id in choosing["members"]:
        try:
            member = get_member(db(), uuid.UUID(chain_id), uuid.UUID(member_id))
        except NotFound:
            continue  # removed meanwhile
        choices.append((member, get_chain(db(), member.chain_id)))
    form = FlaskForm()
    if form.validate_on_submit():
        for member, _chain in choices:
            if str(member.id) == request.form.get("member_id"):
                log_in(member)
                return redirect(safe_next(choosing.get("next")))
    status = 422 if form.is_submitted() else 200
    return render_template("portal/choose_chain.html", form=form, choices=choices), status


def logout():
    if FlaskForm().validate_on_submit():  # no fields: checks the CSRF token only
        if g.member is not None:
            end_sessions(db(), g.member)  # a copy of the cookie stops working too
        session.clear()
    return redirect(url_for("dealer_portal.login"))


def register(bp) -> None:
    bp.before_request(load_member)
    bp.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    bp.add_url_rule("/login/chain", view_func=choose_chain, methods=["GET", "POST"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])

    @bp.record_once
    def _session_lifetime(state) -> None:
        state.app.config["PERMANENT_SESSION_LIFETIME"] = IDLE_LIMIT
