"""Bulk import of organisations with their members and directory group paths.

Every row stands alone: a bad organisation row, or one bad contact in a good row, is reported
with its row number, field and reason, and everything else goes in. Organisations are matched
on `custom_id`, members within their organisation on mobile, else e-mail, else name, so running
the same file twice changes nothing. Work is done a chunk of rows at a time with set-based
reads and bulk inserts: the cost is a few statements per chunk, not per row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.chain.directory_groups import ensure_path
from service.chain.import_files import ImportRow
from service.chain.import_rows import NUL, RowError, check_member, check_organisation
from service.chain.members import normalise_email
from service.chain.models import (
    Import,
    Member,
    Organisation,
    OrganisationGroup,
)
from service.db import new_id, utcnow
from service.errors import DomainError
from service.pagination import Page, paginate

CHUNK = 1000


@dataclass
class Report:
    results: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, row: int, custom_id, field_name: str, reason: str) -> None:
        self.errors.append(
            {"row": row, "custom_id": custom_id, "field": field_name, "reason": reason}
        )

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result["status"] == status)


def run_import(
    session: Session,
    *,
    chain_id: uuid.UUID,
    rows: list[ImportRow],
    source: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[Import, list[dict]]:
    """Import every row that can be imported. Returns the stored Import (with its errors)
    and the per-row results."""
    report = Report()
    group_cache: dict = {}
    seen_custom_ids: dict[str, int] = {}
    emails_in_file: dict[str, int] = {}
    for chunk in _chunks(rows, CHUNK):
        _import_chunk(
            session, chain_id, chunk, report, group_cache, seen_custom_ids, emails_in_file
        )
        if progress:
            progress(len(chunk))
    # A chunk reports the rows it refuses before those it imports: report in file order.
    report.results.sort(key=lambda result: result["row"])
    report.errors.sort(key=lambda error: error["row"])
    record = Import(
        chain_id=chain_id,
        source=source[:200],
        rows=len(rows),
        created=report.count("created"),
        updated=report.count("updated"),
        unchanged=report.count("unchanged"),
        failed=report.count("failed"),
        errors=report.errors,
    )
    session.add(record)
    session.flush()
    return record, report.results


def _chunks(rows: list[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _import_chunk(session, chain_id, chunk, report, group_cache, seen_custom_ids, emails_in_file):
    now = utcnow()
    checked: list[tuple[ImportRow, dict]] = []
    for row in chunk:
        custom_id = row.data.get("custom_id") if isinstance(row.data, dict) else None
        # Echoed in the report only as text: a number like Infinity (which JSON parsers
        # accept) cannot be stored or answered as JSON.
        custom_id = _echo(custom_id) if isinstance(custom_id, str) else None
        try:
            organisation = check_organisation(row.data)
        except RowError as error:
            report.error(row.row, custom_id, error.field, error.reason)
            report.results.append(_result(row, custom_id, "failed"))
            continue
        first = seen_custom_ids.setdefault(organisation["custom_id"], row.row)
        if first != row.row:
            report.error(row.row, custom_id, "custom_id", f"Also on row {first} of this import.")
            report.results.append(_result(row, custom_id, "failed"))
            continue
        checked.append((row, organisation))

    existing = {
        organisation.custom_id: organisation
        for organisation in session.scalars(
            select(Organisation).where(
                Organisation.chain_id == chain_id,
                Organisation.removed_at.is_(None),
                Organisation.custom_id.in_([o["custom_id"] for _, o in checked]),
            )
        )
    }
    existing_members = _members_of(session, [o.id for o in existing.values()])
    placed = _placements_of(session, [o.id for o in existing.values()])
    taken_emails = _emails_taken(session, chain_id, checked)

    new_organisations, new_members, new_placements = [], [], []
    # Members whose details change, in file order, written together at the end of the chunk
    # like the new ones: one statement per member made a large re-import crawl.
    changed_members: list[dict] = []
    new_member_ids: set = set()
    for row, wanted in checked:
        organisation = existing.get(wanted["custom_id"])
        changed = False
        if organisation is not None and organisation.kind != wanted["kind"]:
            report.error(
                row.row, wanted["custom_id"], "kind", f"Is a {organisation.kind} in the chain."
            )
            report.results.append(_result(row, wanted["custom_id"], "failed"))
            continue
        if organisation is None:
            organisation_id = new_id()
            new_organisations.append(
                {"id": organisation_id, "chain_id": chain_id, "kind": wanted["kind"],
                 "name": wanted["name"], "custom_id": wanted["custom_id"], "created_at": now}
            )  # fmt: skip
            status = "created"
        else:
            organisation_id = organisation.id
            status = "unchanged"
            if organisation.name != wanted["name"]:
                organisation.name = wanted["name"]
                changed = True
        try:
            group_ids = [
                ensure_path(session, chain_id=chain_id, path=path, cache=group_cache)[0].id
                for path in wanted["groups"]
            ]
        except DomainError as error:
            report.error(row.row, wanted["custom_id"], "groups", error.message)
            group_ids = []
        for group_id in group_ids:
            if (organisation_id, group_id) not in placed:
                placed.add((organisation_id, group_id))
                new_placements.append({"organisation_id": organisation_id, "group_id": group_id})
                changed = True
        known = existing_members.setdefault(organisation_id, _MemberIndex())
        for position, member_data in enumerate(wanted["members"], start=1):
            member_row = member_data["_row"] if row.from_csv else row.row
            try:
                member = check_member(member_data)
                email_owner = member["email"] and (
                    taken_emails.get(member["email"]) or emails_in_file.get(member["email"])
                )
                match = known.find(member)
                if email_owner and (match is None or email_owner != match.get("id")):
                    raise RowError("email", "Already used by another member.")
            except RowError as error:
                field_name = _member_field(row, position, error.field)
                report.error(member_row, wanted["custom_id"], field_name, error.reason)
                continue
            if match is None:
                record = {"id": new_id(), "chain_id": chain_id, "organisation_id": organisation_id,
                          "created_at": now, **member}  # fmt: skip
                new_members.append(record)
                new_member_ids.add(record["id"])
                known.add(record)
                changed = True
            elif _merge(match, member):
                # A member added earlier in this chunk goes in below with its merged details.
                if match["id"] not in new_member_ids:
                    changed_members.append(
                        {k: match[k] for k in ("id", "name", "role", "mobile", "email")}
                    )
                changed = True
            if member["email"]:
                emails_in_file[member["email"]] = known.find(member)["id"]
        if changed and status == "unchanged":
            status = "updated"
        report.results.append(_result(row, wanted["custom_id"], status, organisation_id))

    if changed_members:
        # By primary key, executemany; members already in the session are brought up to date.
        session.execute(update(Member), changed_members)
    if new_organisations:
        session.execute(insert(Organisation), new_organisations)
    if new_placements:
        session.execute(insert(OrganisationGroup), new_placements)
    if new_members:
        # render_nulls: the ORM would otherwise leave out None columns and split the rows into
        # a new statement each time a member with an e-mail follows one without.
        session.execute(insert(Member).execution_options(render_nulls=True), new_members)
    session.flush()


MAX_ECHO = 100  # the custom_id column's width


def _echo(value: str) -> str:
    """A client's value as the report repeats it: cut to MAX_ECHO characters, with what no
    column (JSON included) can hold replaced."""
    value = re.sub("[\x00\ud800-\udfff]", "\ufffd", value)
    return value if len(value) <= MAX_ECHO else value[: MAX_ECHO - 1] + "…"


def _member_field(row: ImportRow, position: int, name: str) -> str:
    """How to name a bad member field: its CSV column, or its place in the JSON row."""
    if row.from_csv:
        return f"member_{name}"
    if name == "members":
        return f"members[{position}]"
    return f"members[{position}].{name}"


def _result(row: ImportRow, custom_id, status: str, organisation_id=None) -> dict:
    return {"row": row.row, "custom_id": custom_id, "status": status,
            "organisation_id": organisation_id}  # fmt: skip


class _MemberIndex:
    """An organisation's members, findable by mobile, e-mail or name (in that order)."""

    def __init__(self):
        self.by = {"mobile": {}, "email": {}, "name": {}}

    def add(self, member: dict) -> None:
        for key, index in self.by.items():
            if member.get(key):
                index.setdefault(member[key], member)

    def find(self, member: dict) -> dict | None:
        for key in ("mobile", "email", "name"):
            if member.get(key):
                return self.by[key].get(member[key])
        return None


def _merge(current: dict, wanted: dict) -> bool:
    """Bring `current` up to `wanted`; a blank field in the file leaves ours as it is."""
    changed = False
    for key in ("name", "role", "mobile", "email"):
        if wanted[key] and current.get(key) != wanted[key]:
            current[key] = wanted[key]
            changed = True
    return changed


def _members_of(session: Session, organisation_ids: list) -> dict[uuid.UUID, _MemberIndex]:
    indexes: dict[uuid.UUID, _MemberIndex] = {}
    if not organisation_ids:
        return indexes
    rows = session.execute(
        select(Member.id, Member.organisation_id, Member.name, Member.role, Member.mobile,
               Member.email)
        .where(Member.organisation_id.in_(organisation_ids), Member.removed_at.is_(None))
    ).mappings()  # fmt: skip
    for row in rows:
        indexes.setdefault(row["organisation_id"], _MemberIndex()).add(dict(row))
    return indexes


def _placements_of(session: Session, organisation_ids: list) -> set[tuple]:
    if not organisation_ids:
        return set()
    return set(
        session.execute(
            select(OrganisationGroup.organisation_id, OrganisationGroup.group_id).where(
                OrganisationGroup.organisation_id.in_(organisation_ids)
            )
        ).all()
    )


def _emails_taken(
    session: Session, chain_id: uuid.UUID, checked: Iterable[tuple[ImportRow, dict]]
) -> dict:
    """E-mail → id of the live member of this chain who already has it, for the e-mails in
    this chunk (another chain's use of an address is not this chain's business)."""
    emails = {
        normalise_email(member["email"])
        for _, organisation in checked
        for member in organisation["members"]
        if isinstance(member, dict)
        and isinstance(member.get("email"), str)
        and member["email"]
        and NUL not in member["email"]  # refused by check_member; PostgreSQL cannot compare it
    }
    if not emails:
        return {}
    # .all(): a Result has keys(), so dict() would read it as a mapping, not as pairs.
    return dict(
        session.execute(
            select(Member.email, Member.id).where(
                Member.chain_id == chain_id, Member.email.in_(emails), Member.removed_at.is_(None)
            )
        ).all()
    )


def list_imports(
    session: Session, *, chain_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> Page:
    stmt = select(Import).where(Import.chain_id == chain_id)
    return paginate(session, stmt, Import.id, cursor=cursor, limit=limit)
