"""The reports a portal reader may see (service.portal.reports): how the factories deliver,
with each factory's stages drawn as bars; how customers are answered, with the weekly trend of
first responses."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_skeleton
from babel.units import format_unit
from flask import abort, g, render_template, request
from flask_babel import format_date, format_percent, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from blueprints import db
from blueprints.dealer_portal import report_charts
from blueprints.dealer_portal.attention import waited
from blueprints.dealer_portal.refusals import place_on_form
from service.errors import Invalid
from service.portal import orders
from service.portal.access import Reader
from service.portal.reports import dealers_to_choose, delivery_for, service_for
from service.reports.conversations import record


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To (included)"), validators=[Optional()])
    factory = SelectField(_l("Factory"), validators=[Optional()], validate_choice=True)


def duration(seconds: int) -> str:
    """A stage's time as people say it, to a tenth: "40 minutes", "5.5 hours", "3 days"."""
    if seconds < 3600:
        value, unit = round(seconds / 60), "duration-minute"
    elif seconds < 86400:
        value, unit = round(seconds / 3600, 1), "duration-hour"
    else:
        value, unit = round(seconds / 86400, 1), "duration-day"
    return format_unit(value, unit, length="long", format="#,##0.#", locale=get_locale())


def wait(seconds: int | None) -> str:
    """A wait for a reply, to the minute ("2 hr 5 min"); a dash for none."""
    return "—" if seconds is None else waited(timedelta(seconds=seconds))


def month_day(day) -> str:
    """A week's Monday under the trend: "Mar 1", "3月1日"."""
    return format_skeleton("MMMd", day, locale=get_locale())


def delivery_page():
    reader = Reader.of(g.member)
    form = PeriodForm(request.args)
    factories = orders.factories_of_reader(db(), reader)
    form.factory.choices = [("", _l("Any"))] + [(str(f.id), f.name) for f in factories]
    status, report = 200, None
    if form.validate():
        factory_id = next((f.id for f in factories if str(f.id) == form.factory.data), None)
        try:
            report = delivery_for(db(), reader, start=form.start.data, end=form.end.data,
                                  factory_id=factory_id)  # fmt: skip
        except Invalid as error:
            place_on_form(form, error, {"from": "start", "to": "end", "factory_id": "factory"})
    if report is None:
        status = 422
    charts = {}
    if report is not None:
        scale = report_charts.scale_of(report.stages)
        for factory in report.factories:
            stages = [s for s in report.stages if s.factory_id == factory.factory_id]
            if stages:
                charts[factory.factory_id] = report_charts.draw(stages, scale)
    page = render_template("portal/reports.html", form=form, report=report, charts=charts,
                           duration=duration, format_day=format_date,
                           percent=format_percent)  # fmt: skip
    return page, status


class ServicePeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To (included)"), validators=[Optional()])
    dealer = SelectField(_l("Dealer"), validators=[Optional()], validate_choice=True)


def service_page():
    reader = Reader.of(g.member)
    if reader.kind == "factory":
        abort(404)  # a factory owns no groups
    form = ServicePeriodForm(request.args)
    dealers = dealers_to_choose(db(), reader)
    form.dealer.choices = [("", _l("Any"))] + [(str(d.id), d.name) for d in dealers]
    report = None
    if form.validate():
        dealer_id = next((d.id for d in dealers if str(d.id) == form.dealer.data), None)
        try:
            report = service_for(db(), reader, start=form.start.data, end=form.end.data,
                                 dealer_id=dealer_id)  # fmt: skip
        except Invalid as error:
            place_on_form(form, error, {"from": "start", "to": "end", "dealer_id": "dealer"})
    page = render_template(
        "portal/service_report.html", form=form, report=report, by_dealer=reader.kind == "brand",
        figures=(lambda f: record(report, f)), trend=report and report_charts.trend(report.weeks),
        duration=duration, format_day=format_date, percent=format_percent, month_day=month_day,
        wait=wait,
    )  # fmt: skip
    return page, 200 if report is not None else 422


def register(bp) -> None:
    from blueprints.dealer_portal import login_required

    bp.add_url_rule("/reports", view_func=login_required(delivery_page))
    bp.add_url_rule("/reports/service", view_func=login_required(service_page))
