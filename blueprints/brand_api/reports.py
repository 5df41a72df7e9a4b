"""/api/v1/reports: the chain's figures, as JSON or CSV."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, g

from blueprints import db
from blueprints.brand_api import report_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.reports import delivery, delivery_items
from service.spreadsheets import csv_lines

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="The chain's figures: how its factories deliver.",
)

STAGE_COLUMNS = ("factory_id", "from_milestone", "to_milestone", "count", "median_seconds",
                 "p90_seconds", "max_seconds")  # fmt: skip
FACTORY_COLUMNS = ("factory_id", "name", "promised", "kept", "on_time_rate", "late_now",
                   "late_events")  # fmt: skip
BEHIND_COLUMNS = ("work_item_id", "order_id", "reference", "description", "factory_id",
                  "dealer_id", "milestone", "at", "seconds", "promised_at")  # fmt: skip


def as_csv(name: str, columns, records) -> Response:
    return Response(
        csv_lines(columns, records),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _factory_record(factory: delivery.FactoryFigures) -> dict:
    return {**asdict(factory), "on_time_rate": factory.on_time_rate}


@blp.route("/delivery")
@blp.arguments(schemas.DeliveryQuery, location="query")
@blp.response(200, schemas.DeliveryReport)
@blp.alt_response(200, description="`format=csv`: the table asked for", content_type="text/csv")
def delivery_report(args):
    """How each factory delivers: its stages' durations, its promises kept

    Over the days `from` to `to` (both included, in the chain's time zone), for the whole
    chain or one `factory_id` or `dealer_id`:

    - **stages**: a stage is the time between two consecutive milestones a work item reached
      (`from_milestone` → `to_milestone`; the first starts when the item was ordered), counted
      on the day it ended. `count` of them; `median_seconds` and `p90_seconds` by nearest rank
      (the median of 4 is the 2nd), to within 1 %; `max_seconds` exact.
    - **factories**: `promised`, the work items brought to the customer (delivered, or
      further at once) in the period while a promise held for them; `kept`, those that got
      there by the promised date; `on_time_rate` = kept / promised (null when none); `late_now`,
      the factory's items not yet with the customer whose promise has passed (now, whatever
      the period); `late_events`, the factory's own reports (its webhook) received in the
      period for a milestone the item had already passed.

    `GET /reports/delivery/work-items` lists the items behind each figure.
    """
    report = delivery.delivery_report(
        db(), g.chain_id, start=args["start"], end=args["end"],
        factory_id=args["factory_id"], dealer_id=args["dealer_id"],
    )  # fmt: skip
    if args["format"] == "csv":
        if args["table"] == "factories":
            records = (_factory_record(f) for f in report.factories)
            return as_csv("delivery-factories", FACTORY_COLUMNS, records)
        return as_csv("delivery-stages", STAGE_COLUMNS, (asdict(s) for s in report.stages))
    return {
        "period": {
            "start": report.period.start,
            "end": report.period.end,
            "timezone": report.period.zone.key,
        },
        "stages": report.stages,
        "factories": [_factory_record(f) for f in report.factories],
    }


@blp.route("/delivery/work-items")
@blp.arguments(schemas.BehindQuery, location="query")
@blp.response(200, schemas.Behind)
@blp.alt_response(200, description="`format=csv`: the items", content_type="text/csv")
def delivery_work_items(args):
    """The work items behind a figure of the delivery report

    The same period and filters as the report; `figure` names which figure, `total` says how
    many it counts and `items` gives the first `limit`.
    """
    output = args.pop("format")
    total, items = delivery_items.behind(db(), g.chain_id, **args)
    if output == "csv":
        return as_csv(f"delivery-{args['figure']}", BEHIND_COLUMNS, (asdict(i) for i in items))
    return {"total": total, "items": items}
