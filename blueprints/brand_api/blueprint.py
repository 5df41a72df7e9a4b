from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class ApiBlueprint(flask_smorest.Blueprint):
    # webargs ignores unknown query parameters by default; here each schema's own rule
    # (marshmallow: refuse) applies everywhere, so `?kinds=dealer` is a 422, not a silent
    # full list.
    ARGUMENTS_PARSER = FlaskParser(unknown=None)
