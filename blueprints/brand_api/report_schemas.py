"""The reports' schemas (blueprints/brand_api/reports.py)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.progress.milestones import MILESTONES
from service.reports.delivery_items import BEHIND, MAX_BEHIND

FORMAT = fields.String(
    load_default="json",
    validate=validate.OneOf(["json", "csv"]),
    metadata={"description": "`csv`: the table named by `table`, as a spreadsheet opens it"},
)


class PeriodQuery(ma.Schema):
    # `from` is a Python keyword: the argument is `start`, its name in the query `from`.
    start = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "first day (the chain's time zone); default: 29 days before `to`"},
    )
    end = fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "last day, included; default: today. At most 366 days"},
    )


class DeliveryQuery(PeriodQuery):
    factory_id = fields.UUID(load_default=None)
    dealer_id = fields.UUID(load_default=None)
    format = FORMAT
    table = fields.String(
        load_default="stages",
        validate=validate.OneOf(["stages", "factories"]),
        metadata={"description": "which table `format=csv` gives"},
    )


class Period(ma.Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    timezone = fields.String()


class Stage(ma.Schema):
    factory_id = fields.UUID()
    from_milestone = fields.String()
    to_milestone = fields.String()
    count = fields.Integer()
    median_seconds = fields.Integer()
    p90_seconds = fields.Integer()
    max_seconds = fields.Integer()


class Factory(ma.Schema):
    factory_id = fields.UUID()
    name = fields.String()
    promised = fields.Integer()
    kept = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    late_now = fields.Integer()
    late_events = fields.Integer()


class DeliveryReport(ma.Schema):
    period = fields.Nested(Period)
    stages = fields.List(fields.Nested(Stage))
    factories = fields.List(fields.Nested(Factory))


class BehindQuery(PeriodQuery):
    figure = fields.String(
        load_default="late_now",
        validate=validate.OneOf(BEHIND),
        metadata={
            "description": "`stage`: the stages counted for a factory's stage, longest first "
            "(needs `factory_id`, `from_milestone`, `to_milestone`); `missed`: the items that "
            "reached the customer after their promise; `late_now`: the items late against "
            "their promise now, most overdue first; `late_events`: the late reports received"
        },
    )
    factory_id = fields.UUID(load_default=None)
    dealer_id = fields.UUID(load_default=None)
    from_milestone = fields.String(load_default=None, validate=validate.OneOf(MILESTONES))
    to_milestone = fields.String(load_default=None, validate=validate.OneOf(MILESTONES))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_BEHIND))
    format = FORMAT


class BehindItem(ma.Schema):
    work_item_id = fields.UUID()
    order_id = fields.UUID()
    reference = fields.String()
    description = fields.String()
    factory_id = fields.UUID()
    dealer_id = fields.UUID()
    milestone = fields.String(metadata={"description": "the milestone the figure is about"})
    at = fields.DateTime(metadata={"description": "when the stage ended, the report came"})
    seconds = fields.Integer(allow_none=True, metadata={"description": "the stage's duration"})
    promised_at = fields.DateTime(allow_none=True)


class Behind(ma.Schema):
    total = fields.Integer(metadata={"description": "how many the figure counts"})
    items = fields.List(fields.Nested(BehindItem), metadata={"description": "at most `limit`"})


class ServiceQuery(PeriodQuery):
    dealer_id = fields.UUID(load_default=None)
    member_id = fields.UUID(
        load_default=None, metadata={"description": "a dealer's member: the groups they own"}
    )
    format = FORMAT
    table = fields.String(
        load_default="members",
        validate=validate.OneOf(["dealers", "members", "weeks"]),
        metadata={"description": "which table `format=csv` gives"},
    )


def _count(description: str):
    return fields.Integer(metadata={"description": description})


def _seconds(description: str):
    return fields.Integer(allow_none=True, metadata={"description": description + " (null: none)"})


class ServiceFigures(ma.Schema):
    new_groups = _count("groups made in the period")
    groups_total = _count("groups made by the period's end")
    groups_with_messages = _count("groups in which the customer or a member wrote in the period")
    new_members = _count("seats taken in the period, the customer's included")
    members_total = _count("the seats held now in the groups made by the period's end")
    members_who_wrote = _count("the seats (the customer's included) that wrote in the period")
    messages = _count("messages the customer and members wrote in the period (not the system's)")
    customer_messages = _count("of them, the customer's")
    first_responses = _count(
        "the period's customer messages that were the first since the last reply (or since the "
        "group began) and have been answered"
    )
    first_response_median_seconds = _seconds("their wait for the reply, median, wall clock")
    first_response_p90_seconds = _seconds("the same, p90")
    first_response_business_median_seconds = _seconds("median, in business hours")
    first_response_business_p90_seconds = _seconds("p90, in business hours")
    replies = _count("the period's customer messages that have been answered")
    reply_median_seconds = _seconds("their wait for the first reply after them, median")
    reply_p90_seconds = _seconds("the same, p90")
    reply_business_median_seconds = _seconds("median, in business hours")
    reply_business_p90_seconds = _seconds("p90, in business hours")
    answered_same_day = _count(
        "the period's customer messages answered on the day they were written"
    )
    same_day_rate = fields.Float(
        allow_none=True,
        metadata={"description": "answered_same_day / customer_messages (null when none)"},
    )
    unanswered_now = _count("the period's customer messages with no reply yet")
    longest_wait_seconds = _seconds("the oldest of them: its wait so far")
    longest_wait_business_seconds = _seconds("the same, in business hours")


class ServiceRow(ServiceFigures):
    dealer_id = fields.UUID()
    dealer_name = fields.String()
    member_id = fields.UUID(allow_none=True)
    member_name = fields.String(allow_none=True)


class ServiceWeek(ma.Schema):
    week = fields.Date(metadata={"description": "its Monday"})
    first_responses = fields.Integer()
    median_seconds = fields.Integer(allow_none=True)
    business_median_seconds = fields.Integer(allow_none=True)


class BusinessHours(ma.Schema):
    opens = fields.String(metadata={"description": "local HH:MM, every day"})
    closes = fields.String()


class ServiceReport(ma.Schema):
    period = fields.Nested(Period)
    business_hours = fields.Nested(BusinessHours)
    total = fields.Nested(ServiceFigures)
    dealers = fields.List(fields.Nested(ServiceRow))
    members = fields.List(fields.Nested(ServiceRow), metadata={"description": "a row per owner"})
    weeks = fields.List(fields.Nested(ServiceWeek))
