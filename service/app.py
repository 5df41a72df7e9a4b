"""create_app(): configuration, extensions, the three doors, error handlers, CLI."""

from __future__ import annotations

from flask import Flask, redirect, url_for

from jobs.pipeline import Pipeline
from service.config import Config
from service.db import Database
from service.redis_server import RedisHandle


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, instance_path=str(config.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,  # bulk imports are the largest bodies
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config.public_url and config.public_url.startswith("https")),
    )
    if config.sqlalchemy_url.startswith("sqlite"):
        config.instance_path.mkdir(parents=True, exist_ok=True)
    app.extensions["chain_collab.config"] = config
    app.extensions["db"] = Database(config.sqlalchemy_url)
    app.extensions["redis"] = RedisHandle(config)
    app.extensions["pipeline"] = pipeline = Pipeline.wired(
        config, app.extensions["db"], app.extensions["redis"]
    )
    # Where channels may push to: the doors check a channel's URL against it.
    app.extensions["outbound_policy"] = pipeline.settings.policy

    from blueprints import close_request_session, commit_request_session
    from blueprints.brand_api import init_brand_api
    from blueprints.dealer_portal import bp as dealer_portal
    from blueprints.dealer_portal.customer_link import bp as customer_link
    from blueprints.factory_webhooks import bp as factory_webhooks
    from blueprints.json_bodies import GuardedJSONProvider
    from blueprints.json_errors import init_json_errors
    from blueprints.metrics import bp as metrics
    from blueprints.rate_limits import init_rate_limits
    from blueprints.web_security import init_web_security
    from service.cli import register_cli

    # Every JSON door reads its bodies through it: bounded nesting, nothing no column can hold.
    app.json = GuardedJSONProvider(app)
    app.teardown_appcontext(close_request_session)
    init_web_security(app, config)
    init_rate_limits(app, config)
    init_json_errors(app)
    init_brand_api(app)
    app.register_blueprint(dealer_portal)
    app.register_blueprint(customer_link)
    app.register_blueprint(factory_webhooks)
    app.register_blueprint(metrics)
    register_cli(app)
    # Registered last, so it runs first of the after-request functions: the others (security
    # headers) see the answer a failed commit turns into.
    app.after_request(commit_request_session)
    app.add_url_rule("/", "index", lambda: redirect(url_for("dealer_portal.home")))
    return app
