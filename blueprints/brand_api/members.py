from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db, public_base_url
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.chain import members as service
from service.chain.password_links import make_password_link, password_url

blp = Blueprint("members", __name__, description="The people of each organisation.")


@blp.route("/organisations/<uuid:organisation_id>/members")
class OrganisationMembers(MethodView):
    @blp.arguments(schemas.PageArgs, location="query")
    @blp.response(200, schemas.page_of(schemas.Member, "MemberPage"))
    def get(self, args, organisation_id: uuid.UUID):
        """List an organisation's members"""
        page = service.list_members(
            db(), chain_id=g.chain_id, organisation_id=organisation_id, **args
        )
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.MemberCreate)
    @blp.response(201, schemas.Member)
    def post(self, data, organisation_id: uuid.UUID):
        """Add a member"""
        member = service.add_member(
            db(), chain_id=g.chain_id, organisation_id=organisation_id, **data
        )
        return member


@blp.route("/members/<uuid:member_id>")
class MemberById(MethodView):
    @blp.response(200, schemas.Member)
    def get(self, member_id: uuid.UUID):
        """Read a member"""
        return service.get_member(db(), g.chain_id, member_id)

    @blp.arguments(schemas.MemberUpdate)
    @blp.response(200, schemas.Member)
    def patch(self, data, member_id: uuid.UUID):
        """Change a member's name, role, mobile or e-mail (null clears mobile or e-mail)"""
        member = service.update_member(db(), chain_id=g.chain_id, member_id=member_id, **data)
        return member

    @blp.response(204)
    def delete(self, member_id: uuid.UUID):
        """Remove a member"""
        service.remove_member(db(), chain_id=g.chain_id, member_id=member_id)


@blp.route("/members/<uuid:member_id>/password-link", methods=["POST"])
@blp.arguments(schemas.PasswordLinkCreate)
@blp.response(201, schemas.PasswordLink)
def create_password_link(data, member_id: uuid.UUID):
    """Make a one-time, expiring link where the member sets their portal password"""
    link, token = make_password_link(
        db(), chain_id=g.chain_id, member_id=member_id, made_by="api", **data
    )
    return {
        "id": link.id,
        "member_id": link.member_id,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "url": password_url(public_base_url(), token),
    }
