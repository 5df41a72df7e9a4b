"""/api/v1/reports: the chain's figures, as JSON or CSV."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, g

from blueprints import db
from blueprints.brand_api import report_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.reports import conversations, delivery, delivery_items
from service.spreadsheets import csv_lines

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="The chain's figures: how its factories deliver, how its dealers answer.",
)

STAGE_COLUMNS = ("factory_id", "from_milestone", "to_milestone", "count", "median_seconds",
                 "p90_seconds", "max_seconds")  # fmt: skip
FACTORY_COLUMNS = ("factory_id", "name", "promised", "kept", "on_time_rate", "late_now",
                   "late_events")  # fmt: skip
BEHIND_COLUMNS = ("work_item_id", "order_id", "reference", "description", "factory_id",
                  "dealer_id", "milestone", "at", "seconds", "promised_at")  # fmt: skip


def and_csv(description: str):
    """Documents the spreadsheet an answer may be instead of JSON, beside the JSON."""
    csv = {"schema": {"type": "string"}}
    return blp.doc(responses={200: {"description": description, "content": {"text/csv": csv}}})


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
@and_csv("the report; with `format=csv`, the table asked for")
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
@and_csv("the items; with `format=csv`, as a spreadsheet")
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


SERVICE_COLUMNS = ("dealer_id", "dealer_name", "member_id", "member_name",
                   *schemas.ServiceFigures().fields)  # fmt: skip
WEEK_COLUMNS = tuple(schemas.ServiceWeek().fields)


@blp.route("/service")
@blp.arguments(schemas.ServiceQuery, location="query")
@blp.response(200, schemas.ServiceReport)
@and_csv("the report; with `format=csv`, the table asked for")
def service_report(args):
    """How the dealers answer their customers: their groups, members, messages, reply times

    Over the days `from` to `to` (both included, in the chain's time zone), for the whole
    chain, one `dealer_id` or one `member_id` (a dealer's member: the groups they own).

    A group and what is said in it count for its **owner** (the dealer's member who answers
    for it) and the owner's dealer: the owner now for `new_groups`, `groups_total` and
    `members_total`; the owner of the time for what was written and for `new_members`. A
    group whose owner changed in the period counts for each; a dealer's row adds up its
    owners', `total` the dealers'.

    Reply figures, over the customer's messages written in the period:

    - a **reply** is a message by a member of the customer's dealer; the system's messages
      (the welcome, progress notifications, auto-replies, notices) are not replies, nor are a
      factory's or the brand's members';
    - a customer message **waits** from when it was written until the first reply after it
      (several customer messages before one reply all wait for that reply): its **reply
      time**;
    - a **first response** is the wait of the first customer message since the last reply
      (or since the group began);
    - **answered the same day**: the reply came on the same local date;
    - medians and p90 are by nearest rank (the median of 4 is the 2nd), to within 1 %; each is
      given on the wall clock and in the chain's **business hours** (`business_hours`, every
      day; a message written at 20:55 and answered at 09:02 the next morning waited 7
      minutes of business time with the default 09:00–21:00);
    - `unanswered_now`: those with no reply yet; the longest wait is the oldest one's so far.

    `weeks`: for each week (from its Monday) the first responses to customer messages written
    in it, within the period: the portal's trend.
    """
    report = conversations.service_report(
        db(), g.chain_id, start=args["start"], end=args["end"],
        dealer_id=args["dealer_id"], member_id=args["member_id"],
    )  # fmt: skip
    dealers = [conversations.row_record(report, row) for row in report.dealers]
    members = [conversations.row_record(report, row) for row in report.members]
    weeks = [conversations.week_record(week) for week in report.weeks]
    if args["format"] == "csv":
        if args["table"] == "weeks":
            return as_csv("service-weeks", WEEK_COLUMNS, weeks)
        table = dealers if args["table"] == "dealers" else members
        return as_csv(f"service-{args['table']}", SERVICE_COLUMNS, table)
    return {
        "period": {
            "start": report.period.start,
            "end": report.period.end,
            "timezone": report.period.zone.key,
        },
        "business_hours": {
            "opens": report.hours.opens.strftime("%H:%M"),
            "closes": report.hours.closes.strftime("%H:%M"),
        },
        "total": conversations.record(report, report.total),
        "dealers": dealers,
        "members": members,
        "weeks": weeks,
    }
