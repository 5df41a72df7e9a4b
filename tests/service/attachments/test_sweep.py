"""Files that a process dying mid-upload left without their row are swept once they are old
enough; an attachment's own files, and an upload still under way, are kept."""

from __future__ import annotations

import os
import time
import uuid

from sqlalchemy import select

from service.attachments.attachments import attach, known_ids
from service.attachments.checks import check_upload
from service.attachments.files import FileStore
from service.groups.models import Message
from tests.attachment_files import photo
from tests.service.customers import chain_world

acme = chain_world.acme
DAY = 24 * 3600


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_only_old_files_without_a_row_are_swept(cli, acme, tmp_path, monkeypatch):
    _order, group = acme.order(acme.customer("王芳"))
    message = acme.session.scalar(select(Message).where(Message.group_id == group.id))
    store = FileStore(tmp_path)
    kept = attach(
        acme.session, store, message=message,
        checked=check_upload(photo(), "a.jpg", "image/jpeg"),
        uploaded_by_member_id=None, link=str,
    )  # fmt: skip
    acme.session.commit()
    orphan, fresh = uuid.uuid4(), uuid.uuid4()
    for attachment_id in (orphan, fresh):
        store.place(store.write_temporary(b"x"), store.original(attachment_id))
    part = store.write_temporary(b"half an upload")
    for path in (store.original(kept.id), store.thumbnail(kept.id), store.original(orphan), part):
        _age(path, 2 * DAY)
    config = cli.app.extensions["chain_collab.config"]
    monkeypatch.setitem(
        cli.app.extensions, "chain_collab.config", config.with_overrides(attachments_dir=tmp_path)
    )

    result = cli.invoke(args=["groups", "sweep-attachments"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "removed 2 files"
    assert not store.original(orphan).exists() and not part.exists()
    assert store.original(kept.id).exists() and store.thumbnail(kept.id).exists()
    assert store.original(fresh).exists()
    assert known_ids(acme.session, [kept.id, orphan]) == {kept.id}
