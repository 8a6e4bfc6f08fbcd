"""The studio's learners view: everyone enrolled in a course with how, when, their status, how
far they are, when they were last active and how often they practised this week; the same as a
spreadsheet file; a fixed number of SQL statements however many learners; only for the owner."""

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, func, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson
from api.clock import current_time, local_day
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource, EnrolmentStatus
from api.progress import service as progress_service
from api.progress.models import LessonProgress, PracticeLog
from api.studio.learners import safe_cell
from tests.catalog.test_pages_queries import recording
from tests.factories import enable_totp, log_in, make_course, make_user, post_form

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Thursday morning; "the last 7 days" are Friday 13 up to and including today.
NOW = datetime(2026, 11, 19, 10, 0, tzinfo=AMSTERDAM)
BOM = b"\xef\xbb\xbf"


# --- helpers shared with the insight tests ---------------------------------------------------


@pytest.fixture
def clock(app: FastAPI) -> Iterator[datetime]:
    """Requests happen at NOW."""
    app.dependency_overrides[current_time] = lambda: NOW
    yield NOW
    app.dependency_overrides.pop(current_time, None)


@pytest.fixture
def teacher(client: TestClient, session: Session, clock: datetime) -> User:
    """The owner of the course, signed in (with two-step verification), reading English."""
    user = make_user(session, name="Tessa Therapeut", role=Role.instructor, language="en")
    log_in(client, user, secret=enable_totp(session, user))
    return user


def enrol(
    session: Session,
    user: User,
    course: Course,
    *,
    source: EnrolmentSource = EnrolmentSource.purchase,
    at: datetime = NOW - timedelta(days=10),
    status: EnrolmentStatus = EnrolmentStatus.active,
    note: str = "",
) -> Enrolment:
    """An enrolment made at `at`, in the given status."""
    enrolment = enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=source, note=note
    )
    enrolment.enrolled_at = at
    session.add(enrolment)
    if status != EnrolmentStatus.active:
        enrolment_service.set_status(session, enrolment=enrolment, status=status)
    session.flush()
    return enrolment


def lessons_of(session: Session, course: Course) -> list[Lesson]:
    """The course's lessons in course order (make_course numbers them les-M-N)."""
    found = session.exec(select(Lesson).where(Lesson.course_id == course.id)).all()
    return sorted(found, key=lambda lesson: lesson.slug)


def complete(session: Session, user: User, lessons: list[Lesson], at: datetime) -> None:
    for lesson in lessons:
        progress_service.complete(session, user_id=user.id or 0, lesson=lesson, now=at)


def practise(session: Session, user: User, course: Course, *moments: datetime) -> None:
    """Logged practices at these moments, as the practice API stores them."""
    for moment in moments:
        session.add(
            PracticeLog(
                user_id=user.id or 0,
                client_id=f"test-{user.id}-{moment.isoformat()}",
                course_id=course.id or 0,
                step_title="Rustig aanspannen",
                step_kind="exercise",
                practised_at=moment,
                practised_on=local_day(moment),
                duration_seconds=300,
                sets_done=3,
                reps_done=30,
            )
        )
    session.flush()


def days_ago(days: int, hour: int = 9) -> datetime:
    """A moment `days` calendar days before NOW's day, in Amsterdam."""
    day = NOW.date() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=AMSTERDAM)


def row_html(page: str, enrolment: Enrolment) -> str:
    """The table row of one enrolment."""
    match = re.search(rf'<tr[^>]*data-enrolment="{enrolment.id}".*?</tr>', page, re.S)
    assert match, f"no row for enrolment {enrolment.id}"
    return match.group(0)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the page --------------------------------------------------------------------------------


@pytest.fixture
def course(session: Session, teacher: User) -> Course:
    """A course of four lessons in two modules."""
    return make_course(
        session, instructor=teacher, slug="sterke-basis", price_cents=4900, modules=2,
        lessons_per_module=2,
    )  # fmt: skip


def test_each_learner_shows_how_when_status_progress_activity_and_practice(
    client: TestClient, session: Session, course: Course
) -> None:
    lessons = lessons_of(session, course)
    alice = make_user(session, name="Alice Bakker")
    bea = make_user(session, name="Bea de Vries")
    carla = make_user(session, name="Carla Jansen")
    paid = enrol(session, alice, course, at=datetime(2026, 11, 3, 20, 0, tzinfo=AMSTERDAM))
    complete(session, alice, lessons[:3], at=days_ago(5))
    practise(session, alice, course, days_ago(0), days_ago(1), days_ago(1, 18), days_ago(7))
    given = enrol(
        session, bea, course, source=EnrolmentSource.manual, note="Betaald per bank",
        at=datetime(2026, 11, 1, 0, 30, tzinfo=AMSTERDAM),
    )  # fmt: skip
    complete(session, bea, lessons[:1], at=days_ago(2))
    free = enrol(session, carla, course, source=EnrolmentSource.free)

    page = client.get(f"/studio/courses/{course.slug}/learners")

    assert page.status_code == 200
    alice_row = text_of(row_html(page.text, paid))
    assert "Alice Bakker" in alice_row
    assert alice.email in alice_row
    assert "bought" in alice_row
    assert "3 November 2026" in alice_row
    assert "active" in alice_row
    assert "75%" in alice_row
    assert "3 of 4" in alice_row
    assert "19 November 2026" in alice_row  # practised this morning
    # Today and yesterday (twice) count; a week ago today is outside the last 7 days.
    assert "2 of 7" in alice_row
    bea_row = text_of(row_html(page.text, given))
    assert "given by hand" in bea_row
    assert "Betaald per bank" in bea_row
    assert "1 November 2026" in bea_row  # 00:30 in Amsterdam is still 31 October in UTC
    assert "25%" in bea_row
    assert "1 of 4" in bea_row
    assert "17 November 2026" in bea_row
    assert "0 of 7" in bea_row
    carla_row = text_of(row_html(page.text, free))
    assert "free" in carla_row
    assert "0%" in carla_row
    assert "not yet" in carla_row


def test_the_times_on_the_page_are_valid_html(
    client: TestClient, session: Session, course: Course
) -> None:
    alice = make_user(session, name="Alice Bakker")
    at = datetime(2026, 11, 3, 20, 0, 7, 123456, tzinfo=AMSTERDAM)
    enrol(session, alice, course, at=at)
    practise(session, alice, course, days_ago(1).replace(microsecond=654321))

    html = client.get(f"/studio/courses/{course.slug}/learners").text

    times = re.findall(r'datetime="([^"]*)"', html)
    assert times[0] == "2026-11-03T19:00:07Z"
    assert len(times) == 2
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", time) for time in times)
    # HTML allows no role on the rows and cells of a table.
    assert not re.search(r"<t[rhd][ >][^>]*role=", html)


@pytest.mark.parametrize(
    "case",
    [
        (EnrolmentStatus.active, "active", True),
        (EnrolmentStatus.refunded, "refunded", False),
        (EnrolmentStatus.disputed, "paused (payment dispute)", False),
        (EnrolmentStatus.revoked, "ended", False),
    ],
)
def test_every_status_is_named_and_only_active_access_can_be_ended(
    client: TestClient, session: Session, course: Course, case: tuple[EnrolmentStatus, str, bool]
) -> None:
    status, shown, can_end = case
    enrolment = enrol(session, make_user(session), course, status=status)

    row = row_html(client.get(f"/studio/courses/{course.slug}/learners").text, enrolment)

    assert f'class="enrolment-status enrolment-status--{status.value}">{shown}<' in row
    assert (f"/learners/{enrolment.id}/revoke" in row) is can_end


def test_ending_access_without_a_reason_shows_the_message_at_that_learner(
    client: TestClient, session: Session, course: Course
) -> None:
    enrolment = enrol(session, make_user(session), course)

    response = post_form(
        client, f"/studio/courses/{course.slug}/learners/{enrolment.id}/revoke", {"note": " "}
    )

    assert response.status_code == 422
    row = row_html(response.text, enrolment)
    assert '<details class="revoke" open>' in row
    assert f'id="f-revoke-{enrolment.id}-error"' in row


def test_the_page_links_to_the_insight_and_the_spreadsheet(
    client: TestClient, session: Session, course: Course
) -> None:
    enrol(session, make_user(session), course)

    page = client.get(f"/studio/courses/{course.slug}/learners").text

    assert f'href="/studio/courses/{course.slug}/insight"' in page
    assert f'href="/studio/courses/{course.slug}/learners.csv"' in page


def test_a_course_without_learners_says_so(client: TestClient, course: Course) -> None:
    page = client.get(f"/studio/courses/{course.slug}/learners")

    assert page.status_code == 200
    assert "Nobody is enrolled yet." in page.text
    assert "<table" not in page.text


def test_the_page_costs_the_same_statements_for_one_learner_as_for_thirty(
    client: TestClient, session: Session, connection: Connection, course: Course
) -> None:
    lessons = lessons_of(session, course)

    def add_learner(number: int) -> None:
        learner = make_user(session)
        source = list(EnrolmentSource)[number % 3]
        enrol(session, learner, course, source=source, at=days_ago(20 - number % 20))
        complete(session, learner, lessons[: number % 5], at=days_ago(number % 6))
        practise(session, learner, course, *(days_ago(day) for day in range(number % 8)))

    def measure(url: str) -> int:
        with recording(connection) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    add_learner(1)
    one = measure(f"/studio/courses/{course.slug}/learners")
    one_csv = measure(f"/studio/courses/{course.slug}/learners.csv")
    for number in range(2, 31):
        add_learner(number)
    thirty = measure(f"/studio/courses/{course.slug}/learners")
    thirty_csv = measure(f"/studio/courses/{course.slug}/learners.csv")

    assert one == thirty
    assert one_csv == thirty_csv
    # The session, the course, then enrolments with accounts, lesson count, progress, practice.
    assert thirty == 6


# --- the spreadsheet file ---------------------------------------------------------------------


def read_csv(client: TestClient, course: Course) -> list[dict[str, str]]:
    response = client.get(f"/studio/courses/{course.slug}/learners.csv")
    assert response.status_code == 200
    assert response.content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(response.content[3:].decode("utf-8")), delimiter=";"))


def expected_rows(session: Session, course: Course) -> dict[str, dict[str, str]]:
    """What the file should say per email, computed from the database on its own."""
    lesson_count = session.exec(
        select(func.count()).select_from(Lesson).where(Lesson.course_id == course.id)
    ).one()
    since = NOW.date() - timedelta(days=6)
    expected = {}
    for enrolment in session.exec(select(Enrolment).where(Enrolment.course_id == course.id)):
        user = session.get(User, enrolment.user_id)
        assert user is not None
        progress = session.exec(
            select(LessonProgress).where(
                LessonProgress.user_id == user.id, LessonProgress.course_id == course.id
            )
        ).all()
        logs = session.exec(
            select(PracticeLog).where(
                PracticeLog.user_id == user.id, PracticeLog.course_id == course.id
            )
        ).all()
        done = sum(1 for record in progress if record.completed_at)
        moments = [m for r in progress for m in (r.last_visited_at, r.completed_at) if m]
        moments += [log.practised_at for log in logs]
        days: set[date] = {log.practised_on for log in logs if since <= log.practised_on}
        expected[user.email] = {
            "Name": user.name,
            "Email": user.email,
            "How": {"free": "free", "purchase": "bought", "manual": "given by hand"}[
                enrolment.source
            ],
            "Reason": enrolment.note,
            "Enrolled on": local_day(enrolment.enrolled_at).isoformat(),
            "Status": {"active": "active", "refunded": "refunded"}[enrolment.status],
            "Progress (%)": str(round(100 * done / lesson_count)),
            "Lessons completed": str(done),
            "Lessons in the course": str(lesson_count),
            "Last active": local_day(max(moments)).isoformat() if moments else "",
            "Practice days (last 7 days)": str(len(days)),
            "Practice log consent": "withdrawn" if user.health_consent_withdrawn_at else "",
        }
    return expected


def test_the_spreadsheet_matches_the_enrolments_and_progress_in_the_database(
    client: TestClient, session: Session, course: Course
) -> None:
    lessons = lessons_of(session, course)
    zoe = make_user(session, name="Zoë Çelik-Öztürk")
    enrol(session, zoe, course, at=datetime(2026, 10, 25, 23, 30, tzinfo=AMSTERDAM))
    complete(session, zoe, lessons[:2], at=days_ago(3))
    practise(session, zoe, course, days_ago(0), days_ago(2), days_ago(6), days_ago(9))
    femke = make_user(session, name="Femke")
    enrol(session, femke, course, source=EnrolmentSource.manual, note="Bank; 3 maart")
    complete(session, femke, lessons, at=days_ago(12))
    practise(session, femke, course, days_ago(12))
    gerda = make_user(session, name='Gerda "Gee"')
    enrol(session, gerda, course, source=EnrolmentSource.free, status=EnrolmentStatus.refunded)

    rows = read_csv(client, course)

    assert {row["Email"]: row for row in rows} == expected_rows(session, course)
    assert len(rows) == 3
    by_email = {row["Email"]: row for row in rows}
    # Spot checks of the computation the comparison relies on.
    assert by_email[zoe.email]["Name"] == "Zoë Çelik-Öztürk"
    assert by_email[zoe.email]["Practice days (last 7 days)"] == "3"
    assert by_email[zoe.email]["Enrolled on"] == "2026-10-25"
    assert by_email[femke.email]["Progress (%)"] == "100"
    assert by_email[femke.email]["Reason"] == "Bank; 3 maart"
    assert by_email[gerda.email]["Last active"] == ""


def test_the_spreadsheet_downloads_as_a_named_utf8_file(
    client: TestClient, session: Session, course: Course
) -> None:
    enrol(session, make_user(session), course)

    response = client.get(f"/studio/courses/{course.slug}/learners.csv")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="sterke-basis-deelnemers.csv"'
    )
    assert response.headers["cache-control"] == "no-store"
    header = response.content[3:].decode("utf-8").splitlines()[0]
    assert header.split(";")[:3] == ["Name", "Email", "How"]


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://x.example")',
        "+31 6 1234",
        "-2+3",
        "@SUM(A1)",
        "=cmd|' /C calc'!A0",
        # The full-width forms, which Excel can read as the ASCII signs.
        '＝HYPERLINK("http://x.example")',
        "＋1+1",
        "－2+3",
        "＠SUM(A1)",
    ],
)
def test_a_name_that_a_spreadsheet_would_run_as_a_formula_stays_text(
    client: TestClient, session: Session, course: Course, name: str
) -> None:
    learner = make_user(session, name=name)
    enrol(session, learner, course, source=EnrolmentSource.manual, note="=1+1")

    [row] = read_csv(client, course)

    assert row["Name"] == "'" + name
    assert row["Reason"] == "'=1+1"
    assert row["Email"] == learner.email


@pytest.mark.parametrize("note", ["\t=1+1", "\r=1+1", "\t＝1+1"])
def test_a_reason_that_hides_a_formula_behind_a_tab_or_carriage_return_stays_text(
    client: TestClient, session: Session, course: Course, note: str
) -> None:
    learner = make_user(session)
    enrol(session, learner, course, source=EnrolmentSource.manual, note=note)

    [row] = read_csv(client, course)

    assert row["Reason"] == "'" + note


def test_safe_cell_leaves_ordinary_values_alone() -> None:
    assert safe_cell("Anne-Marie") == "Anne-Marie"
    assert safe_cell(42) == "42"
    assert safe_cell(None) == ""
    assert safe_cell("-") == "'-"
    assert safe_cell("\t=1+1") == "'\t=1+1"


# --- who may see it ---------------------------------------------------------------------------

URLS = ["/studio/courses/{slug}/learners", "/studio/courses/{slug}/learners.csv"]


@pytest.mark.parametrize("url", URLS)
def test_another_instructor_is_refused(
    client: TestClient, session: Session, clock: datetime, url: str
) -> None:
    course = make_course(session)
    enrol(session, make_user(session, name="Geheim"), course)
    other = make_user(session, role=Role.instructor)
    log_in(client, other, secret=enable_totp(session, other))

    response = client.get(url.format(slug=course.slug))

    assert response.status_code == 403
    assert "Geheim" not in response.text


@pytest.mark.parametrize("url", URLS)
def test_a_learner_is_refused(
    client: TestClient, session: Session, clock: datetime, url: str
) -> None:
    course = make_course(session)
    learner = make_user(session)
    enrol(session, learner, course)
    log_in(client, learner)

    assert client.get(url.format(slug=course.slug)).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_an_anonymous_visitor_is_sent_to_log_in(
    client: TestClient, session: Session, url: str
) -> None:
    course = make_course(session)
    path = url.format(slug=course.slug)

    response = client.get(path, follow_redirects=False)

    assert response.status_code in {302, 303}
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("url", URLS)
def test_an_admin_sees_any_course(
    client: TestClient, session: Session, clock: datetime, url: str
) -> None:
    course = make_course(session)
    enrol(session, make_user(session, name="Zichtbaar"), course)
    admin = make_user(session, role=Role.admin)
    log_in(client, admin, secret=enable_totp(session, admin))

    response = client.get(url.format(slug=course.slug))

    assert response.status_code == 200
    assert "Zichtbaar" in response.text


def test_an_unknown_course_is_not_found(client: TestClient, teacher: User) -> None:
    assert client.get("/studio/courses/bestaat-niet/learners.csv").status_code == 404
