"""One round of pushes for a batch of channels, with its transactions at its edges: claim →
commit → HTTP → record → commit. The leases are renewed by a thread of its own while the
pushes are sent and recorded; a record that cannot reach the database is tried again."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy.exc import InterfaceError, OperationalError

from service.db import utcnow
from service.notify.leasing import Claim, claim, lease_for, renew
from service.notify.sending import PushSettings, Result, send
from service.notify.settling import record

log = logging.getLogger(__name__)


def push_channels(
    db,
    client: httpx.Client,
    channel_ids: list[uuid.UUID],
    settings: PushSettings,
    on_result: Callable[[str, Result], None] | None = None,
    send_many: Callable | None = None,
) -> dict[uuid.UUID, datetime | None]:
    """One round of pushes for a batch of channels: claim (one transaction), send (no
    transaction open; `send_many` may send them side by side), record (one transaction,
    retried while the database is away). The leases are renewed until the outcome is
    recorded. Returns when each channel should be looked at again (None: not for now)."""
    with db.session() as session:
        claims, later = claim(session, channel_ids, settings)
        session.commit()
    if not claims:
        return later
    with _Renewing(db, claims, settings):
        send_one = lambda push: send(client, push, settings)  # noqa: E731
        results = list((send_many or map)(send_one, claims))
        if on_result:
            for push, result in zip(claims, results, strict=True):
                on_result(push.channel_type, result)
        later.update(record_patiently(db, list(zip(claims, results, strict=True))))
    return later


class _Renewing:
    """Renews a batch's leases a few times per lease while its pushes wait for a sending
    thread, are sent and are recorded; a batch done within a quarter lease costs nothing."""

    def __init__(self, db, claims: list[Claim], settings: PushSettings):
        self.db, self.claims, self.lease = db, claims, lease_for(settings)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lease-renewal", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.done.wait(self.lease.total_seconds() / 4):
            try:
                with self.db.session() as session:
                    renew(session, self.claims, utcnow() + self.lease)
                    session.commit()
            except Exception:
                log.warning("Could not renew the leases of a push", exc_info=True)


# How long a worker keeps trying to record what it sent while the database is away, and the
# longest wait between two tries. Past this the outcome is lost and the push is sent again
# (same idempotency key) once its leases lapse.
RECORD_PATIENCE = timedelta(minutes=2)


RECORD_RETRY_MAX = 2.0


def record_patiently(db, pushes: list[tuple[Claim, Result]]) -> dict[uuid.UUID, datetime | None]:
    """`record`, committed; tried again with backoff while the database cannot be reached
    (restarting, failing over), so that the log says what was sent."""
    deadline = time.monotonic() + RECORD_PATIENCE.total_seconds()
    wait = 0.1
    while True:
        try:
            with db.session() as session:
                later = record(session, pushes)
                session.commit()
                return later
        except (OperationalError, InterfaceError):
            if time.monotonic() + wait > deadline:
                raise
            log.warning("Could not record %d pushes; trying again in %.1f s", len(pushes), wait)
            time.sleep(wait)
            wait = min(wait * 2, RECORD_RETRY_MAX)
