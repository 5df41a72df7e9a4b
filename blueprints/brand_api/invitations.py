from __future__ import annotations

from flask import g
from flask.views import MethodView

from blueprints import db, public_base_url
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.chain import invitations as service
from service.chain.models import Invitation

blp = Blueprint(
    "invitations",
    __name__,
    url_prefix="/invitations",
    description="Single-use, expiring codes by which a dealer or factory joins the chain.",
)


def invitation_out(invitation: Invitation, code: str | None = None) -> dict:
    out = {
        column: getattr(invitation, column)
        for column in (
            "id", "kind", "group_ids", "created_at", "expires_at", "accepted_at", "organisation_id"
        )
    }  # fmt: skip
    out["status"] = service.invitation_status(invitation)
    if code:
        out["code"] = code
        out["url"] = f"{public_base_url()}/portal/join/{code}"
    return out


@blp.route("")
class Invitations(MethodView):
    @blp.arguments(schemas.PageArgs, location="query")
    @blp.response(200, schemas.page_of(schemas.Invitation, "InvitationPage"))
    def get(self, args):
        """List invitations and whether they were accepted"""
        page = service.list_invitations(db(), chain_id=g.chain_id, **args)
        return {"items": [invitation_out(i) for i in page.items], "next_cursor": page.next_cursor}

    @blp.arguments(schemas.InvitationCreate)
    @blp.response(201, schemas.CreatedInvitation)
    def post(self, data):
        """Invite a dealer or factory; the code and URL are in this answer only"""
        invitation, code = service.create_invitation(db(), chain_id=g.chain_id, **data)
        return invitation_out(invitation, code)
