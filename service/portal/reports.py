"""The reports as a portal reader may see them: a dealer's people their dealer's orders and
groups, a factory's its own work, the brand's the whole chain (service.reports)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.models import Organisation
from service.portal.access import Reader
from service.reports.conversations import ServiceReport, service_report
from service.reports.delivery import DeliveryReport, delivery_report


def delivery_for(
    session: Session,
    reader: Reader,
    *,
    start: date | None = None,
    end: date | None = None,
    factory_id=None,
    now: datetime | None = None,
) -> DeliveryReport:
    dealer_id = reader.organisation_id if reader.kind == "dealer" else None
    if reader.kind == "factory":
        factory_id = reader.organisation_id
    return delivery_report(session, reader.chain_id, start=start, end=end,
                           factory_id=factory_id, dealer_id=dealer_id, now=now)  # fmt: skip


def service_for(
    session: Session,
    reader: Reader,
    *,
    start: date | None = None,
    end: date | None = None,
    dealer_id=None,
    now: datetime | None = None,
) -> ServiceReport | None:
    """How customers are answered: a dealer's people see their dealer's, member by member;
    the brand's the whole chain or one dealer. A factory owns no groups: None."""
    if reader.kind == "factory":
        return None
    if reader.kind == "dealer":
        dealer_id = reader.organisation_id
    return service_report(session, reader.chain_id, start=start, end=end, dealer_id=dealer_id,
                          now=now)  # fmt: skip


def dealers_to_choose(session: Session, reader: Reader) -> list[Organisation]:
    """The dealers whose figures the reader may ask for one by one: the brand's, all."""
    if reader.kind != "brand":
        return []
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.chain_id == reader.chain_id, Organisation.kind == "dealer")
            .order_by(Organisation.name, Organisation.id)
        )
    )
