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
