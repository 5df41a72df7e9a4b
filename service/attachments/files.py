"""Attachments' files, in a directory every web host mounts: each kept under its id (never a
name a user gave), its thumbnail next to it. A file is written under a temporary name first
and given its own only once its row is flushed; the caller removes it again (discard) when
the transaction does not commit, so that no file outlives a refused upload. A process that
dies between the two leaves a file without a row: never served (a download starts from the
row), and removed by sweep_orphans."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

_PART = ".part"


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def original(self, attachment_id: uuid.UUID) -> Path:
        return self._dir(attachment_id) / attachment_id.hex

    def thumbnail(self, attachment_id: uuid.UUID) -> Path:
        return self._dir(attachment_id) / f"{attachment_id.hex}.thumb.webp"

    def _dir(self, attachment_id: uuid.UUID) -> Path:
        # Spread over 256 directories: no directory grows to millions of entries.
        return self.root / attachment_id.hex[:2]

    def write_temporary(self, data: bytes) -> Path:
        """`data` in a new file under a name nobody else uses, on the same file system as
        the final place (a rename there is atomic), flushed to disk."""
        spool = self.root / "tmp"
        spool.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=spool, suffix=_PART)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    def place(self, temporary: Path, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, final)

    def discard(self, attachment_id: uuid.UUID) -> None:
        """Remove an attachment's files (those of a transaction that did not commit)."""
        for path in (self.original(attachment_id), self.thumbnail(attachment_id)):
            path.unlink(missing_ok=True)

    @staticmethod
    def drop(temporary: Path | None) -> None:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def sweep_orphans(
    store: FileStore,
    known: Callable[[list[uuid.UUID]], set[uuid.UUID]],
    *,
    older_than: timedelta,
    now: datetime,
) -> int:
    """Remove what a process that died mid-upload left: temporary files, and files whose row
    was never committed (`known` says which of some ids have a row), older than `older_than`
    so that an upload still under way keeps its own. Returns how many files went."""
    cutoff = (now - older_than).timestamp()
    removed = 0
    for path in (store.root / "tmp").glob(f"*{_PART}"):
        removed += _remove_if_older(path, cutoff)
    by_id: dict[uuid.UUID, list[Path]] = {}
    for path in store.root.glob("[0-9a-f][0-9a-f]/*"):
        try:
            attachment_id = uuid.UUID(path.name.split(".", 1)[0])
        except ValueError:
            continue
        by_id.setdefault(attachment_id, []).append(path)
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        kept = known(batch)
        for attachment_id in batch:
            if attachment_id not in kept:
                removed += sum(_remove_if_older(p, cutoff) for p in by_id[attachment_id])
    return removed


def _remove_if_older(path: Path, cutoff: float) -> int:
    try:
        if path.stat().st_mtime < cutoff:
            path.unlink()
            return 1
    except FileNotFoundError:
        pass
    return 0
