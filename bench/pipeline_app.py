"""What bench/pipeline.py serves with gunicorn: the app as wsgi.py builds it, plus one route,
`POST /bench/ceiling`, that does the least a webhook endpoint on this server can do: one
INSERT of the request into a bench table with the app's engine, and a commit. Also `noop`,
the job RQ's baseline worker runs.

    gunicorn --chdir bench pipeline_app:app      (with the project root on PYTHONPATH)
"""

from __future__ import annotations

from flask import request
from sqlalchemy import BigInteger, Column, DateTime, MetaData, Table, Text, func, insert

from service.app import create_app

CEILING = Table(
    "bench_ceiling",
    MetaData(),
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("webhook_id", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


def add_ceiling(app) -> None:
    engine = app.extensions["db"].engine

    @app.post("/bench/ceiling")
    def ceiling():
        body = request.get_data()
        with engine.begin() as conn:
            conn.execute(
                insert(CEILING).values(
                    webhook_id=request.headers.get("webhook-id", ""), body=body.decode()
                )
            )
        return {"accepted": 1}, 202

    @app.get("/bench/ready")
    def ready():
        return {"ok": True}


app = create_app()
add_ceiling(app)
