from __future__ import annotations

from flask import g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import channel_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.chain.chains import get_chain, update_chain

blp = Blueprint(
    "chain",
    __name__,
    url_prefix="/chain",
    description="The chain's own settings: name, time zone, language, quiet hours, business "
    "hours, broadcast quota.",
)


def chain_out(chain) -> dict:
    quiet = None
    if chain.quiet_hours_start and chain.quiet_hours_end:
        quiet = {"start": chain.quiet_hours_start, "end": chain.quiet_hours_end}
    return {
        "id": chain.id,
        "name": chain.name,
        "timezone": chain.timezone,
        "language": chain.language,
        "quiet_hours": quiet,
        "business_hours": {"start": chain.business_hours_start, "end": chain.business_hours_end},
        "broadcast_quota": chain.broadcast_quota,
        "created_at": chain.created_at,
    }


@blp.route("")
class ChainView(MethodView):
    @blp.response(200, schemas.ChainSettings)
    def get(self):
        """The chain's settings"""
        return chain_out(get_chain(db(), g.chain_id))

    @blp.arguments(schemas.ChainSettings)
    @blp.response(200, schemas.ChainSettings)
    def patch(self, data):
        """Change the chain's settings"""
        chain = update_chain(db(), chain_id=g.chain_id, **data)
        return chain_out(chain)
