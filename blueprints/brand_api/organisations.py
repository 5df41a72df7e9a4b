from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db, public_base_url
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.doors import progress_url
from service.chain import organisations as service
from service.chain.models import Organisation, OrganisationKind

blp = Blueprint(
    "organisations",
    __name__,
    url_prefix="/organisations",
    description="The dealers and factories of the chain (and the brand itself).",
)


def organisation_out(organisation: Organisation, *, webhook_secret: str | None = None) -> dict:
    out = {
        "id": organisation.id,
        "kind": organisation.kind,
        "name": organisation.name,
        "custom_id": organisation.custom_id,
        "group_ids": [group.id for group in organisation.groups],
        "created_at": organisation.created_at,
    }
    if organisation.kind == OrganisationKind.FACTORY:
        out["webhook_url"] = progress_url(public_base_url(), organisation.id)
    if webhook_secret:
        out["webhook_secret"] = webhook_secret
    return out


@blp.route("")
class Organisations(MethodView):
    @blp.arguments(schemas.OrganisationQuery, location="query")
    @blp.response(200, schemas.page_of(schemas.Organisation, "OrganisationPage"))
    def get(self, args):
        """List organisations, oldest first"""
        page = service.list_organisations(db(), chain_id=g.chain_id, **args)
        return {"items": [organisation_out(o) for o in page.items], "next_cursor": page.next_cursor}

    @blp.arguments(schemas.OrganisationCreate)
    @blp.response(201, schemas.CreatedOrganisation)
    def post(self, data):
        """Add a dealer or factory; a factory's webhook secret is in this answer only"""
        organisation, secret = service.add_organisation(db(), chain_id=g.chain_id, **data)
        return organisation_out(organisation, webhook_secret=secret)


@blp.route("/<uuid:organisation_id>")
class OrganisationById(MethodView):
    @blp.response(200, schemas.Organisation)
    def get(self, organisation_id: uuid.UUID):
        """Read an organisation"""
        return organisation_out(service.get_organisation(db(), g.chain_id, organisation_id))

    @blp.arguments(schemas.OrganisationUpdate)
    @blp.response(200, schemas.Organisation)
    def patch(self, data, organisation_id: uuid.UUID):
        """Rename an organisation, change its custom_id or its directory groups"""
        organisation = service.update_organisation(
            db(), chain_id=g.chain_id, organisation_id=organisation_id, **data
        )
        return organisation_out(organisation)

    @blp.response(204)
    def delete(self, organisation_id: uuid.UUID):
        """Remove an organisation from the chain"""
        service.remove_organisation(db(), chain_id=g.chain_id, organisation_id=organisation_id)


@blp.route("/<uuid:organisation_id>/secret:rotate", methods=["POST"])
@blp.response(200, schemas.RotatedSecret)
def rotate_secret(organisation_id: uuid.UUID):
    """Issue a factory a new webhook secret; the previous one keeps working for 24 h"""
    secret, previous_until = service.rotate_webhook_secret(
        db(), chain_id=g.chain_id, organisation_id=organisation_id
    )
    return {
        "webhook_secret": secret,
        "webhook_url": progress_url(public_base_url(), organisation_id),
        "previous_secret_expires_at": previous_until,
    }
