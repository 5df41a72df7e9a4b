"""The milestones as the portal's pages and the customer's link name them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MILESTONE_NAMES = {
    "received": _l("Order received"),
    "designed": _l("Design done"),
    "in_production": _l("In production"),
    "quality_checked": _l("Quality checked"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "installed": _l("Installed"),
    "completed": _l("Completed"),
}
