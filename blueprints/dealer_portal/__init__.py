"""/portal: the dealers' web portal."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dealer_portal", __name__, url_prefix="/portal", template_folder="templates")
