"""The timeline picture's geometry: where each milestone, report, ETA and now are drawn."""

from datetime import UTC, datetime, timedelta

from blueprints.dealer_portal import timeline_svg as svg
from blueprints.dealer_portal.timeline_svg import Event, draw

START = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PLOT = svg.WIDTH - svg.RIGHT - svg.LEFT
LEFT, RIGHT = float(svg.LEFT), float(svg.WIDTH - svg.RIGHT)  # as drawn


def test_milestones_stand_one_above_another_completed_on_top():
    rows = dict(draw(start=START, now=START + DAY, events=[]).rows)
    assert rows["completed"] == svg.TOP
    assert rows["received"] == svg.HEIGHT - svg.BOTTOM
    heights = list(rows.values())
    assert heights == sorted(heights, reverse=True)  # each higher than the one before
    assert len(set(heights)) == 8


def test_time_runs_from_the_order_to_now_left_to_right():
    t = draw(start=START, now=START + 10 * DAY, events=[Event(START + 5 * DAY, "designed")])
    assert (t.start, t.end) == (START, START + 10 * DAY)
    assert t.now_x == svg.WIDTH - svg.RIGHT
    assert t.marks[0].x == round(svg.LEFT + PLOT / 2, 1)
    assert t.marks[0].y == svg.y_of("designed")


def test_the_line_steps_up_at_each_report_and_runs_on_to_now():
    events = [Event(START + 2 * DAY, "designed"), Event(START + 6 * DAY, "in_production")]
    t = draw(start=START, now=START + 10 * DAY, events=events)
    x2, x6 = (round(svg.LEFT + PLOT * d / 10, 1) for d in (2, 6))
    assert t.path == (
        f"M{LEFT} {svg.y_of('received')} H{x2} V{svg.y_of('designed')} "
        f"H{x6} V{svg.y_of('in_production')} H{RIGHT}"
    )


def test_a_late_report_is_marked_but_does_not_move_the_line_back():
    events = [
        Event(START + 2 * DAY, "shipped"),
        Event(START + 4 * DAY, "designed", late=True),
    ]
    t = draw(start=START, now=START + 10 * DAY, events=events)
    late = [m for m in t.marks if m.event.late]
    assert [(m.event.milestone, m.y) for m in late] == [("designed", svg.y_of("designed"))]
    assert f"V{svg.y_of('designed')}" not in t.path
    assert t.path.endswith(f"V{svg.y_of('shipped')} H{RIGHT}")


def test_an_eta_after_now_widens_the_picture_to_it():
    t = draw(start=START, now=START + 5 * DAY, events=[], eta=START + 10 * DAY)
    assert t.end == START + 10 * DAY
    assert t.eta_x == svg.WIDTH - svg.RIGHT
    assert t.now_x == round(svg.LEFT + PLOT / 2, 1)


def test_an_eta_that_has_passed_stands_inside_the_picture():
    t = draw(start=START, now=START + 10 * DAY, events=[], eta=START + 4 * DAY)
    assert t.eta_x == round(svg.LEFT + PLOT * 0.4, 1)
    assert draw(start=START, now=START + DAY, events=[]).eta_x is None


def test_an_order_placed_just_now_still_has_a_width_of_time():
    t = draw(start=START, now=START, events=[])
    assert t.end > t.start
    assert t.now_x == svg.LEFT


def test_the_promised_date_is_drawn_and_widens_the_picture_like_an_eta():
    t = draw(start=START, now=START + 5 * DAY, events=[], eta=START + 8 * DAY,
             promise=START + 10 * DAY)  # fmt: skip
    assert t.end == START + 10 * DAY
    assert t.promise_x == svg.WIDTH - svg.RIGHT
    assert t.eta_x == round(svg.LEFT + PLOT * 0.8, 1)
    assert draw(start=START, now=START + DAY, events=[]).promise_x is None
