"""The reports as a portal reader may see them: a dealer's people their dealer's orders, a
factory's its own work, the brand's the whole chain (service.reports)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from service.portal.access import Reader
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
