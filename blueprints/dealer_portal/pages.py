"""Customers and orders: lists, search, adding a customer, changing their owner, and the
order page with each work item's timeline drawn."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask import g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blueprints import db, public_base_url
from blueprints.dealer_portal import timeline_svg
from blueprints.dealer_portal.forms import plain_text, visible_name
from blueprints.dealer_portal.milestone_names import MILESTONE_NAMES
from blueprints.dealer_portal.refusals import place_on_form
from blueprints.doors import customer_link_url
from service.chain.chains import get_chain
from service.customers.links import create_link
from service.db import utcnow
from service.errors import Invalid, NotFound
from service.portal import customers, orders
from service.portal.access import Reader
from service.progress.milestones import MILESTONES

PAGE_SIZE = 50


class CustomerForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), plain_text, visible_name]
    )
    mobile = StringField(_l("Mobile"), validators=[DataRequired(), Length(max=32), plain_text])
    tags = StringField(
        _l("Tags (separated by commas)"), validators=[Optional(), Length(max=1000), plain_text]
    )
    owner = SelectField(_l("Owner"), validate_choice=True)


class InstallationForm(FlaskForm):
    date = DateField(_l("Date"), validators=[InputRequired()])
    time = TimeField(_l("Time"), validators=[InputRequired()])
    save = SubmitField(_l("Save the appointment"))


class ClearInstallationForm(FlaskForm):
    clear = SubmitField(_l("Remove the appointment"))


class OwnerForm(FlaskForm):
    owner = SelectField(_l("New owner"), validate_choice=True)


# The form's fields by the names the domain gives them when it refuses one.
CUSTOMER_FIELDS = {"name": "name", "mobile": "mobile", "tags": "tags", "owner_member_id": "owner"}


def _reader() -> Reader:
    return Reader.of(g.member)


def _timezone() -> ZoneInfo:
    if "chain_timezone" not in g:
        g.chain_timezone = ZoneInfo(get_chain(db(), g.member.chain_id).timezone)
    return g.chain_timezone


def local_time(value, style: str = "short") -> str:
    """A moment in the chain's time zone, written the reader's language's way."""
    if value is None:
        return ""
    return format_datetime(value, style, tzinfo=_timezone(), locale=str(get_locale()))


def local_clock(value, style: str = "short") -> str:
    """A moment's time of day in the chain's time zone."""
    if value is None:
        return ""
    return format_time(value, style, tzinfo=_timezone(), locale=str(get_locale()))


def local_date(value, style: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value.astimezone(_timezone()), style, locale=str(get_locale()))


def _uuid_arg(name: str) -> uuid.UUID | None:
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid.field(name, "Not an id.") from None


def _split_tags(text: str | None) -> list[str]:
    return [tag.strip() for tag in (text or "").replace("，", ",").split(",") if tag.strip()]


def customer_list():
    reader = _reader()
    query = (request.args.get("q") or "").strip()
    mine = bool(request.args.get("mine")) and reader.whole_dealer
    page = customers.search_customers(
        db(), reader, query=query, mine=mine, cursor=request.args.get("cursor"), limit=PAGE_SIZE
    )
    return render_template(
        "portal/pages_customers.html",
        page=page,
        query=query,
        mine=mine,
        mobiles=customers.shown_mobiles(reader, page.items),
        owners=customers.owner_names(db(), page.items),
        may_add=reader.kind == "dealer",
    )


def new_customer():
    reader = _reader()
    if reader.kind != "dealer":
        raise NotFound(_("Only a dealer's members add customers."))
    form = CustomerForm()
    if reader.admin:
        form.owner.choices = [
            (str(m.id), m.name) for m in customers.owners_to_choose(db(), reader.organisation_id)
        ]
        form.owner.data = form.owner.data or str(reader.member_id)
    else:
        del form.owner
    known = None
    if form.validate_on_submit():
        owner = uuid.UUID(form.owner.data) if reader.admin else None
        try:
            customer = customers.add_customer_as(
                db(),
                reader,
                name=form.name.data,
                mobile=form.mobile.data,
                tags=_split_tags(form.tags.data),
                owner_member_id=owner,
            )
        except customers.KnownMobile as error:
            known = error
        except Invalid as error:
            if not place_on_form(form, error, CUSTOMER_FIELDS):
                raise
        else:
            return redirect(url_for("dealer_portal.customer", customer_id=customer.id))
    page = render_template("portal/pages_customer_new.html", form=form, known=known)
    return page, 422 if form.is_submitted() else 200


def customer(customer_id: uuid.UUID):
    reader = _reader()
    view = customers.customer_page(db(), reader, customer_id)
    return _customer_page(view)


def _owner_form(view) -> OwnerForm:
    form = OwnerForm()
    form.owner.choices = [(str(m.id), m.name) for m in view.owners]
    return form


def _customer_page(view, **shown) -> str:
    """The customer's page, its owner form set to the owner as they are."""
    form = _owner_form(view)
    form.owner.data = str(view.customer.owner_member_id)
    return render_template("portal/pages_customer.html", view=view, form=form, **shown)


def change_owner(customer_id: uuid.UUID):
    reader = _reader()
    view = customers.customer_page(db(), reader, customer_id)
    if not customers.may_change_owner(reader, view.customer):
        raise customers.NotAllowed(_("Only an administrator or the customer's owner may do this."))
    form = _owner_form(view)
    if form.validate_on_submit():
        try:
            customers.change_owner_as(db(), reader, customer_id, uuid.UUID(form.owner.data))
        except Invalid as error:  # the new owner left the dealer meanwhile
            db().rollback()
            if not place_on_form(form, error, {"to_member_id": "owner"}):
                raise
        else:
            return redirect(url_for("dealer_portal.customer", customer_id=customer_id))
    page = render_template("portal/pages_customer.html", view=view, form=form)
    return page, 422


def make_link(customer_id: uuid.UUID):
    """A private link to the customer's view, made by their owner or an administrator and
    shown once, on the page this answers with."""
    reader = _reader()
    view = customers.customer_page(db(), reader, customer_id)
    if not customers.may_change_owner(reader, view.customer):
        raise customers.NotAllowed(_("Only an administrator or the customer's owner may do this."))
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("dealer_portal.customer", customer_id=customer_id))
    _link, token = create_link(
        db(),
        chain_id=reader.chain_id,
        customer_id=customer_id,
        created_by_member_id=reader.member_id,
    )
    return _customer_page(view, link_url=customer_link_url(public_base_url(), token)), 201


def order_list():
    reader = _reader()
    milestone = request.args.get("milestone") or None
    factory_id = _uuid_arg("factory")
    customer_id = _uuid_arg("customer")
    late_only = bool(request.args.get("late"))
    page = orders.list_orders(
        db(),
        reader,
        milestone=milestone,
        factory_id=factory_id,
        late_only=late_only,
        customer_id=customer_id,
        cursor=request.args.get("cursor"),
        limit=PAGE_SIZE,
    )
    now = utcnow()
    filters = {
        "milestone": milestone,
        "factory": factory_id,
        "customer": customer_id,
        "late": "1" if late_only else None,
    }
    shown_customer = None
    if customer_id is not None:
        shown_customer = customers.visible_customer(db(), reader, customer_id)
    return render_template(
        "portal/pages_orders.html",
        page=page,
        filters=filters,
        milestones=MILESTONES,
        factories=orders.factories_of_reader(db(), reader),
        customers=orders.customers_of(db(), page.items),
        late=orders.late_orders(db(), [o.id for o in page.items], now),
        shown_customer=shown_customer,
        next_url=page.next_cursor
        and url_for(
            "dealer_portal.order_list",
            cursor=page.next_cursor,
            **{k: v for k, v in filters.items() if v},
        ),
    )


def order(order_id: uuid.UUID):
    view = orders.order_page(db(), _reader(), order_id)
    return render_order(view, **installation_forms(view))


def render_order(view, **shown) -> str:
    pictures = {
        item.item.id: timeline_svg.draw(
            start=view.order.created_at,
            now=view.now,
            eta=item.item.eta,
            promise=item.promise,
            events=[
                timeline_svg.Event(e.occurred_at, e.milestone, e.late)
                for e in item.events
                if e.kind == "milestone"
            ],
        )
        for item in view.items
    }
    return render_template(
        "portal/pages_order.html",
        view=view,
        pictures=pictures,
        chain_zone=_timezone().key,
        **shown,
    )


def installation_forms(view) -> dict:
    """The order page's forms to book its installation, for a reader who may."""
    if not orders.may_change(db(), Reader.of(g.member), view.order):
        return {}
    form = InstallationForm(formdata=None)
    booked = view.order.installation_at
    if booked is not None:
        local = booked.astimezone(_timezone())
        form.date.data, form.time.data = local.date(), local.time().replace(second=0)
    return {"installation_form": form, "clear_form": ClearInstallationForm(formdata=None)}


def book_installation(order_id: uuid.UUID):
    reader = Reader.of(g.member)
    clearing = "clear" in request.form
    form = ClearInstallationForm() if clearing else InstallationForm()
    if form.validate_on_submit():
        at = None
        if not clearing:
            at = datetime.combine(form.date.data, form.time.data, tzinfo=_timezone())
        try:
            orders.set_installation_as(db(), reader, order_id, at)
        except Invalid as error:
            db().rollback()
            if clearing or not place_on_form(form, error, {"installation_at": "date"}):
                raise
        else:
            return redirect(url_for("dealer_portal.order", order_id=order_id))
    view = orders.order_page(db(), reader, order_id)
    if not orders.may_change(db(), reader, view.order):
        raise orders.ReadOnly(_("You may read this order but not change it."))
    shown = installation_forms(view)
    if not clearing:
        shown["installation_form"] = form
    return render_order(view, **shown), 422


def register(bp) -> None:
    from blueprints.dealer_portal import login_required

    bp.add_url_rule("/customers", view_func=login_required(customer_list))
    bp.add_url_rule(
        "/customers/new", view_func=login_required(new_customer), methods=["GET", "POST"]
    )
    bp.add_url_rule("/customers/<uuid:customer_id>", view_func=login_required(customer))
    bp.add_url_rule(
        "/customers/<uuid:customer_id>/links",
        view_func=login_required(make_link),
        methods=["POST"],
    )
    bp.add_url_rule(
        "/customers/<uuid:customer_id>/owner",
        view_func=login_required(change_owner),
        methods=["POST"],
    )
    bp.add_url_rule("/orders", view_func=login_required(order_list))
    bp.add_url_rule("/orders/<uuid:order_id>", view_func=login_required(order))
    bp.add_url_rule(
        "/orders/<uuid:order_id>/installation",
        view_func=login_required(book_installation),
        methods=["POST"],
    )

    @bp.context_processor
    def _pages_globals() -> dict:
        return {
            "milestone_name": lambda m: MILESTONE_NAMES.get(m, m),
            "local_time": local_time,
            "local_date": local_date,
            "local_clock": local_clock,
        }
