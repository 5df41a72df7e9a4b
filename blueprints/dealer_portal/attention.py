"""What needs attention (/portal/) and its count in the navigation."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from babel.lists import format_list
from babel.units import format_unit
from flask import current_app, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from redis.exceptions import RedisError

from blueprints import db
from blueprints.dealer_portal.groups import moderation_reason
from service.db import utcnow
from service.portal.access import Reader
from service.portal.attention import attention, attention_count

# A badge says "99+" beyond this: the page has the figures.
BADGE_MAX = 99


def waited(delta: timedelta) -> str:
    """How long someone has waited, to the minute: "2 hr 5 min", "2小时5分钟"."""
    locale = str(get_locale())
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return _("less than a minute")
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [("duration-day", days), ("duration-hour", hours)]
    else:
        parts = [("duration-hour", hours), ("duration-minute", minutes)]
    units = [format_unit(n, unit, length="short", locale=locale) for unit, n in parts if n]
    return format_list(units, style="unit-narrow", locale=locale)


def _mine(reader: Reader) -> bool:
    return bool(request.args.get("mine")) and reader.whole_dealer


def home():
    reader = Reader.of(g.member)
    mine = _mine(reader)
    found = attention(db(), reader, utcnow(), mine=mine)
    if not mine:
        _keep_badge(found.total)
    return render_template(
        "portal/attention.html",
        found=found,
        mine=mine,
        moderation_reason=moderation_reason,
        # Counted already, for the whole view (the navigation's count ignores "mine").
        attention_badge=lambda: _shown(found.total if not mine else badge_count()),
    )


# The badge is on every page, and counting takes tens of milliseconds for a dealer with
# thousands of groups: it is kept in Redis for a short while (the attention page itself always
# counts afresh, and puts its count there).
BADGE_SECONDS = 30


def _badge_key(member) -> str:
    return f"portal:attention-badge:{member.id}"


def badge_count() -> int:
    redis = current_app.extensions["redis"].client
    try:
        kept = redis.get(_badge_key(g.member))
    except RedisError:
        kept = None
    if kept is not None:
        return int(kept)
    count = attention_count(db(), Reader.of(g.member), utcnow())
    _keep_badge(count)
    return count


def _keep_badge(count: int) -> None:
    with contextlib.suppress(RedisError):  # the next page counts again
        current_app.extensions["redis"].client.set(_badge_key(g.member), count, ex=BADGE_SECONDS)


def badge() -> str | None:
    """The navigation's count of what needs the signed-in member's attention, if anything."""
    if getattr(g, "member", None) is None:
        return None
    return _shown(badge_count())


def _shown(count: int) -> str | None:
    if not count:
        return None
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


def register(bp) -> None:
    from blueprints.dealer_portal import login_required

    bp.add_url_rule("/", "home", view_func=login_required(home))

    @bp.context_processor
    def _attention_globals() -> dict:
        return {"attention_badge": badge, "waited": waited}
