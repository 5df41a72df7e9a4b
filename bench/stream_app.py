"""What bench/chat_stream.py serves with gunicorn: the app as wsgi.py builds it (a chat stream's
heartbeat every 15 s, as in production), plus two routes:

- `GET /bench/ready`: the server answers;
- `GET /bench/wait`: one `SELECT pg_sleep(0.2)` on the app's engine, answering which wait
  function psycopg chose in this process. Under a cooperative worker, N of them at once on one
  worker take 0.2 s, not N × 0.2 s, if psycopg waits the cooperative way.

    gunicorn --chdir bench stream_app:app      (with the project root on PYTHONPATH)
"""

from __future__ import annotations

import psycopg.waiting
from sqlalchemy import text

from service.app import create_app

app = create_app()


@app.get("/bench/ready")
def ready():
    return {"ok": True}


@app.get("/bench/wait")
def wait():
    with app.extensions["db"].engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(0.2)"))
    return {"wait": psycopg.waiting.wait.__name__}
