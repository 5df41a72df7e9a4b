from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import delivery_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import PageArgs, page_of
from service.db import get_in_chain
from service.groups import templates as service
from service.groups.models import GroupTemplate

blp = Blueprint(
    "group_templates",
    __name__,
    url_prefix="/group-templates",
    description="How delivery groups are named, peopled and moderated. A template's "
    "moderation applies at once to every group made from it; its naming, welcome message, "
    "roles, rename lock and cap apply to groups made from then on.",
)


@blp.route("")
class GroupTemplates(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(schemas.GroupTemplate, "GroupTemplatePage"))
    def get(self, args):
        """List templates: the chain's default and those of directory groups"""
        page = service.list_templates(db(), chain_id=g.chain_id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.GroupTemplateCreate)
    @blp.response(201, schemas.GroupTemplate)
    def post(self, data):
        """Give a directory group's dealers their own template (without directory_group_id:
        set the chain's default)

        A new template is used for the groups made from then on for its dealers; groups made
        already keep the template they were made from. Setting the chain's default changes the
        default template itself, so its moderation applies at once to the groups made from it;
        what is not given goes back to the defaults.
        """
        template = service.create_template(db(), chain_id=g.chain_id, **data)
        return template


@blp.route("/<uuid:template_id>")
class GroupTemplateById(MethodView):
    @blp.response(200, schemas.GroupTemplate)
    def get(self, template_id: uuid.UUID):
        """Read a template"""
        return get_in_chain(db(), GroupTemplate, g.chain_id, template_id)

    @blp.arguments(schemas.GroupTemplateUpdate)
    @blp.response(200, schemas.GroupTemplate)
    def patch(self, data, template_id: uuid.UUID):
        """Change a template: moderation at once, the rest for groups made afterwards

        Moderation (`blocked_words`, `contact_action`, `auto_replies`) applies at once to
        every group made from this template, from its next message on. `name_pattern`,
        `welcome_message`, `member_roles`, `rename_locked` and `member_cap` apply to groups
        made from then on: a group made already keeps its name, seats, lock, cap and first
        message. What is not given stays as it is.
        """
        template = service.update_template(
            db(), chain_id=g.chain_id, template_id=template_id, **data
        )
        return template
