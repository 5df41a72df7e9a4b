from __future__ import annotations

import flask_smorest
from flask import current_app
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class _Parser(FlaskParser):
    def _raw_load_json(self, req):
        # The app's guarded JSON reading (blueprints/json_bodies.py), not webargs' own
        # json.loads, which recurses without bound and lets NUL and lone surrogates through.
        if not is_json_request(req):
            return core.missing
        return current_app.json.loads(req.get_data(cache=True))


class ApiBlueprint(flask_smorest.Blueprint):
    # webargs ignores unknown query parameters by default; here each schema's own rule
    # (marshmallow: refuse) applies everywhere, so `?kinds=dealer` is a 422, not a silent
    # full list.
    ARGUMENTS_PARSER = _Parser(unknown=None)
