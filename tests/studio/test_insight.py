"""Course insight: enrolments and revenue per Amsterdam week, completion per lesson (where
learners stop), and practice adherence per week, drawn as server-side charts with their numbers
in tables; a fixed number of SQL statements whatever the history; only for the owner."""

import re
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.enrolment.models import EnrolmentSource, EnrolmentStatus
from api.payments.models import Order, OrderStatus
from api.progress.practice import DayTotal
from api.studio import insight as insight_service
from tests.catalog.test_pages_queries import recording
from tests.factories import enable_totp, log_in, make_course, make_user
from tests.studio.test_learners import (
    AMSTERDAM,
    NOW,
    clock,  # noqa: F401 (a fixture)
    complete,
    days_ago,
    enrol,
    lessons_of,
    practise,
    teacher,  # noqa: F401 (a fixture)
    text_of,
)
from web.charts import Frame, columns, scale_top
from web.pages import progress

THIS_MONDAY = date(2026, 11, 16)  # NOW is Thursday 19 November 2026
LAST_MONDAY = date(2026, 11, 9)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


_orders = iter(range(1, 10_000))


def order(
    session: Session,
    course: Course,
    *,
    amount: int = 4900,
    status: OrderStatus = OrderStatus.paid,
    paid_at: datetime | None = None,
    refunded_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> Order:
    stored = Order(
        course_id=course.id,
        course_title=course.title,
        status=status.value,
        amount_cents=amount,
        subtotal_cents=amount,
        stripe_checkout_session_id=f"cs_test_insight_{next(_orders)}_{course.id}",
        paid_at=paid_at,
        refunded_at=refunded_at,
    )
    if updated_at is not None:
        stored.updated_at = updated_at
    session.add(stored)
    session.flush()
    return stored


@pytest.fixture
def course(session: Session, teacher: User) -> Course:  # noqa: F811
    """Three lessons in week 1, one in week 2."""
    return make_course(
        session, instructor=teacher, slug="sterke-basis", price_cents=4900, modules=2,
        lessons_per_module=2,
    )  # fmt: skip


@pytest.fixture
def hand_made(session: Session, course: Course) -> dict[str, User]:
    """Four learners with access and one refunded, with known lessons, orders and practice.

    alice, bea and carla enrolled on Tuesday 3 November; dana on Wednesday 18 November (she
    practised a free preview the week before); eva enrolled on 10 November and was refunded.
    """
    lessons = lessons_of(session, course)
    learners = {name: make_user(session, name=name.title()) for name in ("alice", "bea", "carla")}
    for learner in learners.values():
        enrol(session, learner, course, at=at(date(2026, 11, 3), 20))
    learners["dana"] = make_user(session, name="Dana")
    enrol(session, learners["dana"], course, source=EnrolmentSource.free, at=at(date(2026, 11, 18)))
    learners["eva"] = make_user(session, name="Eva")
    enrol(
        session, learners["eva"], course, at=at(date(2026, 11, 10)),
        status=EnrolmentStatus.refunded,
    )  # fmt: skip

    complete(session, learners["alice"], lessons[:3], at=days_ago(4))
    complete(session, learners["bea"], lessons[:1], at=days_ago(4))
    complete(session, learners["carla"], lessons[:1], at=days_ago(4))
    complete(session, learners["eva"], lessons, at=days_ago(4))  # refunded: not counted

    last_week = [at(LAST_MONDAY + timedelta(days=n)) for n in range(7)]
    this_week = [at(THIS_MONDAY + timedelta(days=n), 8) for n in range(4)]
    # alice: Monday (twice), Tuesday and Wednesday last week; Monday–Wednesday this week.
    practise(session, learners["alice"], course, *last_week[:3], last_week[0] + timedelta(hours=6))
    practise(session, learners["alice"], course, *this_week[:3])
    practise(session, learners["bea"], course, last_week[4], last_week[6])
    practise(session, learners["dana"], course, *last_week[:4])  # before she enrolled
    practise(session, learners["eva"], course, *last_week)  # refunded: not counted

    order(session, course, paid_at=at(THIS_MONDAY + timedelta(days=1)))
    order(
        session, course, status=OrderStatus.refunded, paid_at=at(LAST_MONDAY + timedelta(days=1)),
        refunded_at=at(THIS_MONDAY + timedelta(days=2)),
    )  # fmt: skip
    # 00:30 on Monday in Amsterdam is still Sunday in UTC: it belongs to the week of 9 November.
    order(session, course, amount=3900, paid_at=at(LAST_MONDAY, 0, 30))
    order(session, course, status=OrderStatus.pending)
    order(session, course, paid_at=at(THIS_MONDAY - timedelta(weeks=12)))  # before the 12 weeks
    order(session, make_course(session), paid_at=at(THIS_MONDAY))  # another course
    return learners


def test_enrolments_and_revenue_per_amsterdam_week(
    session: Session, course: Course, hand_made: dict[str, User]
) -> None:
    insight = insight_service.read(session, course=course, now=NOW)

    weeks = {week.monday: week for week in insight.sales}
    assert len(insight.sales) == 12
    assert insight.sales[0].monday == THIS_MONDAY - timedelta(weeks=11)
    assert insight.sales[-1].monday == THIS_MONDAY
    assert weeks[THIS_MONDAY] == insight_service.SalesWeek(THIS_MONDAY, 1, 4900, 4900)
    assert weeks[LAST_MONDAY] == insight_service.SalesWeek(LAST_MONDAY, 1, 4900 + 3900, 0)
    assert weeks[date(2026, 11, 2)].enrolments == 3
    assert weeks[THIS_MONDAY].revenue_cents == 0
    assert sum(week.revenue_cents for week in insight.sales) == 4900 + 3900


def test_a_moment_falls_in_its_amsterdam_week_across_the_daylight_saving_change(
    session: Session, course: Course
) -> None:
    # Summer time ended on Sunday 25 October 2026. Late Sunday evening is still that week;
    # half past midnight on Monday (22:30 and 23:30 UTC on Sunday) is the next.
    order(session, course, amount=100, paid_at=at(date(2026, 10, 25), 23, 30))
    order(session, course, amount=200, paid_at=at(date(2026, 10, 26), 0, 30))

    insight = insight_service.read(session, course=course, now=NOW)

    paid = {week.monday: week.paid_cents for week in insight.sales}
    assert paid[date(2026, 10, 19)] == 100
    assert paid[date(2026, 10, 26)] == 200


def test_a_lost_dispute_takes_the_money_back_in_its_week(session: Session, course: Course) -> None:
    order(
        session, course, status=OrderStatus.dispute_lost, paid_at=at(date(2026, 10, 6)),
        updated_at=at(LAST_MONDAY + timedelta(days=3)),
    )  # fmt: skip

    insight = insight_service.read(session, course=course, now=NOW)

    weeks = {week.monday: week for week in insight.sales}
    assert weeks[date(2026, 10, 5)].paid_cents == 4900
    assert weeks[LAST_MONDAY].reversed_cents == 4900


def test_completion_per_lesson_counts_learners_with_access_in_course_order(
    session: Session, course: Course, hand_made: dict[str, User]
) -> None:
    insight = insight_service.read(session, course=course, now=NOW)

    assert insight.active_learners == 4
    assert [(item.lesson.slug, item.completed) for item in insight.lessons] == [
        ("les-1-1", 3),
        ("les-1-2", 1),
        ("les-2-1", 1),
        ("les-2-2", 0),
    ]
    drop = insight.biggest_drop
    assert drop is not None
    assert (drop[0].lesson.slug, drop[1].lesson.slug) == ("les-1-1", "les-1-2")


def test_practice_adherence_per_week(
    session: Session, course: Course, hand_made: dict[str, User]
) -> None:
    insight = insight_service.read(session, course=course, now=NOW)

    weeks = {week.monday: week for week in insight.practice}
    assert len(insight.practice) == 8
    assert insight.practice[-1].monday == THIS_MONDAY
    # Last week: alice, bea and carla had access (dana came later, eva was refunded); alice
    # practised on 3 days, bea on 2.
    last = weeks[LAST_MONDAY]
    assert (last.learners, last.adherent, last.practice_days) == (3, 1, 5)
    assert (last.share, last.average_days) == (33, 1.7)
    # This week so far: dana counts too; alice practised on 3 days.
    now = weeks[THIS_MONDAY]
    assert (now.learners, now.adherent, now.practice_days) == (4, 1, 3)
    assert now.share == 25
    # Before anyone enrolled there is nobody to count.
    first = insight.practice[0]
    assert (first.learners, first.share, first.average_days) == (0, 0, 0.0)


def test_the_page_shows_the_numbers_charts_and_where_learners_stop(
    client: TestClient, course: Course, hand_made: dict[str, User]
) -> None:
    response = client.get(f"/studio/courses/{course.slug}/insight")

    assert response.status_code == 200
    page = response.text
    text = text_of(page)
    # Four charts, each an image with a summary, and two tables of numbers per week.
    assert page.count('role="img"') == 4
    assert page.count("<table") == 2
    assert "€88.00 in the last 12 weeks" in text  # 49 + 39 + 49 − 49 (refund)
    assert "5 in the last 12 weeks" in text
    assert "week 47 (16 – 22 November 2026) (so far)" in text
    assert "3 of 4 · 75%" in text
    assert "0 of 4 · 0%" in text
    assert "Most learners stop after “Les 1.1”: 3 completed it, 1 completed the next lesson" in text
    assert "This week so far: 25% of 4 learners" in text
    assert "This week so far: 0.8 days on average" in text
    # The table row of last week: 3 learners, 1 of them (33%) on 3 days or more, 1.7 days.
    assert re.search(r"week 46 \(9 – 15 November 2026\) 3 1 \(33%\) 1\.7", text)


def test_the_page_links_back_to_the_learners(client: TestClient, course: Course) -> None:
    page = client.get(f"/studio/courses/{course.slug}/insight").text

    assert f'href="/studio/courses/{course.slug}/learners"' in page
    assert f'href="/studio/courses/{course.slug}/learners.csv"' in page
    assert "Nobody has access to this course yet." in page


def test_the_page_costs_the_same_statements_with_little_and_much_history(
    client: TestClient,
    session: Session,
    connection: Connection,
    teacher: User,  # noqa: F811
) -> None:
    small = make_course(session, instructor=teacher, modules=1, lessons_per_module=1)
    learner = make_user(session)
    enrol(session, learner, small)
    complete(session, learner, lessons_of(session, small), at=days_ago(1))
    practise(session, learner, small, days_ago(1))
    order(session, small, paid_at=days_ago(1))

    large = make_course(session, instructor=teacher, modules=6, lessons_per_module=4)
    lessons = lessons_of(session, large)
    for number in range(30):
        learner = make_user(session)
        enrol(session, learner, large, at=days_ago(number * 3))
        complete(session, learner, lessons[: number % 24], at=days_ago(number % 20))
        practise(session, learner, large, *(days_ago(day) for day in range(0, 56, 1 + number % 4)))
        order(session, large, paid_at=days_ago(number * 3, 10))
        if number % 7 == 0:
            order(
                session, large, status=OrderStatus.refunded, paid_at=days_ago(number * 2),
                refunded_at=days_ago(number),
            )  # fmt: skip

    def measure(slug: str) -> list[str]:
        with recording(connection) as seen:
            assert client.get(f"/studio/courses/{slug}/insight").status_code == 200
        return list(seen)

    little, much = measure(small.slug), measure(large.slug)

    assert len(little) == len(much), (little, much)
    # The session, the course, modules, lessons, completions, three for the sales, two for
    # the practice weeks, and the questionnaires of the course's check-ins (none here).
    assert len(much) == 11, much


# --- who may see it ---------------------------------------------------------------------------

URL = "/studio/courses/{slug}/insight"


def test_another_instructor_is_refused(
    client: TestClient,
    session: Session,
    clock: datetime,  # noqa: F811
) -> None:
    course = make_course(session)
    other = make_user(session, role=Role.instructor)
    log_in(client, other, secret=enable_totp(session, other))

    assert client.get(URL.format(slug=course.slug)).status_code == 403


def test_a_learner_is_refused(
    client: TestClient,
    session: Session,
    clock: datetime,  # noqa: F811
) -> None:
    course = make_course(session)
    learner = make_user(session)
    enrol(session, learner, course)
    log_in(client, learner)

    assert client.get(URL.format(slug=course.slug)).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client: TestClient, session: Session) -> None:
    course = make_course(session)

    response = client.get(URL.format(slug=course.slug), follow_redirects=False)

    assert response.status_code in {302, 303}
    assert response.headers["location"].startswith("/login?next=")


def test_an_admin_sees_any_course(
    client: TestClient,
    session: Session,
    clock: datetime,  # noqa: F811
) -> None:
    course = make_course(session)
    admin = make_user(session, role=Role.admin)
    log_in(client, admin, secret=enable_totp(session, admin))

    assert client.get(URL.format(slug=course.slug)).status_code == 200


# --- the chart geometry -----------------------------------------------------------------------


def test_the_top_of_a_chart_is_a_round_number_above_the_highest_value() -> None:
    assert scale_top(0, minimum=5) == 5
    assert scale_top(7, minimum=5) == 7
    assert scale_top(12, minimum=5) == 15
    assert scale_top(147, minimum=10) == 150
    assert scale_top(1234, minimum=10) == 1500
    assert scale_top(23, minimum=10, step=5) == 25


def test_columns_stand_on_zero_and_a_loss_hangs_below_it() -> None:
    frame = Frame(width=300, top=20, bottom=120, high=100, low=-100)

    up, nothing, down, tiny = columns(frame, [50, 0, -100, 0.1], bar_width=20)

    assert frame.zero == 70
    assert (up.x, up.y, up.height, up.center) == (27.5, 45.0, 25.0, 37.5)
    assert nothing.height == 0
    assert (down.y, down.height) == (70.0, 50.0)
    assert down.value_y > down.y + down.height
    assert tiny.height == 3.0  # still visible


def test_the_shared_columns_place_the_practice_week_chart_as_it_does_itself() -> None:
    """web/pages/progress.py may draw its week chart with web/charts.py without a change."""
    minutes = [0, 1, 7, 12, 23, 0, 4]
    totals = [DayTotal(THIS_MONDAY + timedelta(days=n), 1, m * 60) for n, m in enumerate(minutes)]
    chart = progress.week_chart(totals, THIS_MONDAY + timedelta(days=3))
    frame = Frame(
        progress.CHART_WIDTH, progress.PLOT_TOP, progress.BASELINE,
        high=scale_top(max(minutes), minimum=progress.MIN_SCALE_MINUTES, step=5),
    )  # fmt: skip

    placed = columns(frame, minutes, bar_width=progress.BAR_WIDTH)

    assert [(c.x, c.y, c.height, c.center, c.value_y) for c in placed] == [
        (bar.x, bar.y, bar.height, bar.center, bar.value_y) for bar in chart.bars
    ]
