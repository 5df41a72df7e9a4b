"""The reports a portal reader may see (service.portal.reports): how the factories deliver,
with each factory's stages drawn as bars."""

from __future__ import annotations

from babel.units import format_unit
from flask import g, render_template, request
from flask_babel import format_date, format_percent, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from blueprints import db
from blueprints.dealer_portal import report_charts
from blueprints.dealer_portal.refusals import place_on_form
from service.errors import Invalid
from service.portal import orders
from service.portal.access import Reader
from service.portal.reports import delivery_for


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


def register(bp) -> None:
    from blueprints.dealer_portal import login_required

    bp.add_url_rule("/reports", view_func=login_required(delivery_page))
