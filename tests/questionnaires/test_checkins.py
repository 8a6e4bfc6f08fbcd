"""When a check-in is due: at enrolment, after a module, at the end, every N days (the clock
moved), in the order they came due; a done one is no longer asked for."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course
from api.kit.ids import id_of
from api.progress import service as progress_service
from api.progress import today
from api.questionnaires import checkins
from api.questionnaires.checkins import DueCheckIn
from api.questionnaires.models import Measurement, Questionnaire
from tests.factories import agree_to_health_data, make_course, make_user
from tests.questionnaires.checkin_factories import (
    add_check_in,
    answers,
    complete,
    enrol_at,
    lessons_of,
    make_questionnaire,
)

ENROLLED = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # a Monday evening, 21:00 in Amsterdam


def due_now(session: Session, user: User, now: datetime) -> list[DueCheckIn[Questionnaire]]:
    outlines = catalog.enrolled_outlines(session, viewer=user, now=now)
    progresses = progress_service.read_many(session, outlines=outlines, user_id=id_of(user))
    found = checkins.due(session, user=user, progresses=progresses, now=now)
    # "Vandaag" reads the check-ins within its own statement: the same occasions, in order.
    on_today = today.read(session, user=user, now=now).check_ins
    assert [(item.key, item.url, item.since) for item in on_today] == [
        (item.key, item.url, item.since) for item in found
    ]
    return found


def keys(items: list[DueCheckIn[Questionnaire]]) -> list[str]:
    return [item.key for item in items]


def fill_in(session: Session, user: User, item: DueCheckIn[Questionnaire], now: datetime) -> None:
    if user.health_consent_version is None:
        agree_to_health_data(session, user)
    checkins.submit(session, user=user, item=item, raw=answers(), now=now)


def course_with(
    session: Session, *moments: tuple[str, dict[str, int]]
) -> tuple[Course, Questionnaire]:
    course = make_course(session, modules=2, lessons_per_module=2)
    questionnaire = make_questionnaire(session, course)
    for position, (moment, extra) in enumerate(moments):
        add_check_in(session, course, questionnaire, moment, position=position, **extra)
    return course, questionnaire


def test_the_baseline_is_due_from_enrolment_until_she_fills_it_in(session: Session) -> None:
    course, questionnaire = course_with(session, ("enrolment", {}))
    alice = make_user(session)
    enrol_at(session, alice, course, ENROLLED)

    due = due_now(session, alice, ENROLLED + timedelta(minutes=1))
    assert keys(due) == [f"q{questionnaire.id}-enrolment"]
    assert due[0].occasion == f"c{course.id}:q{questionnaire.id}:enrolment"
    assert due[0].url == f"/courses/{course.slug}/check-ins/q{questionnaire.id}-enrolment"

    # Missed for weeks, it is still there; once done, it is gone.
    later = ENROLLED + timedelta(days=40)
    assert keys(due_now(session, alice, later)) == keys(due)
    fill_in(session, alice, due[0], later)
    assert due_now(session, alice, later) == []


def test_a_module_check_in_is_due_once_every_lesson_of_the_module_is_done(
    session: Session,
) -> None:
    course, questionnaire = course_with(session, ("module", {"module_position": 0}))
    alice = make_user(session)
    enrol_at(session, alice, course, ENROLLED)
    first_module = lessons_of(session, course)[:2]
    now = ENROLLED + timedelta(days=3)

    complete(session, alice, first_module[:1], now)
    assert due_now(session, alice, now) == []

    complete(session, alice, first_module[1:], now)
    assert keys(due_now(session, alice, now)) == [f"q{questionnaire.id}-module-0"]


def test_the_end_check_in_is_due_when_the_whole_course_is_done(session: Session) -> None:
    course, questionnaire = course_with(session, ("end", {}))
    alice = make_user(session)
    enrol_at(session, alice, course, ENROLLED)
    lessons = lessons_of(session, course)
    now = ENROLLED + timedelta(days=20)

    complete(session, alice, lessons[:-1], now)
    assert due_now(session, alice, now) == []

    complete(session, alice, lessons[-1:], now)
    assert keys(due_now(session, alice, now)) == [f"q{questionnaire.id}-end"]


def test_every_n_days_comes_due_each_period_and_missed_ones_do_not_stack(
    session: Session,
) -> None:
    course, questionnaire = course_with(session, ("every", {"every_days": 7}))
    alice = make_user(session)
    enrol_at(session, alice, course, ENROLLED)
    q = questionnaire.id

    # Counted in Amsterdam days: enrolled on Monday evening, the first is there the next
    # Monday at midnight, not at 21:00.
    assert due_now(session, alice, datetime(2026, 11, 8, 22, 59, tzinfo=UTC)) == []
    first = due_now(session, alice, datetime(2026, 11, 8, 23, 0, tzinfo=UTC))
    assert keys(first) == [f"q{q}-every-7-1"]

    fill_in(session, alice, first[0], datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    assert due_now(session, alice, datetime(2026, 11, 15, 9, 0, tzinfo=UTC)) == []

    # She misses the second and the third period: only the current one is asked for.
    assert keys(due_now(session, alice, datetime(2026, 11, 30, 9, 0, tzinfo=UTC))) == [
        f"q{q}-every-7-4"
    ]


def test_the_one_due_longest_comes_first(session: Session) -> None:
    course, questionnaire = course_with(
        session,
        ("module", {"module_position": 0}),
        ("every", {"every_days": 14}),
        ("enrolment", {}),
    )
    alice = make_user(session)
    enrol_at(session, alice, course, ENROLLED)
    complete(session, alice, lessons_of(session, course)[:2], ENROLLED + timedelta(days=20))
    q = questionnaire.id

    due = due_now(session, alice, ENROLLED + timedelta(days=21))

    assert keys(due) == [f"q{q}-enrolment", f"q{q}-every-14-1", f"q{q}-module-0"]


def test_no_check_in_of_a_draft_questionnaire_or_without_active_access(session: Session) -> None:
    course = make_course(session)
    draft = make_questionnaire(session, course, status="draft")
    add_check_in(session, course, draft, "enrolment")
    alice, bob = make_user(session), make_user(session)
    enrol_at(session, alice, course, ENROLLED)
    ended = enrol_at(session, bob, course, ENROLLED)
    ended.status = "revoked"
    published = make_questionnaire(session, course, slug="tweede")
    add_check_in(session, course, published, "enrolment", position=1)

    assert keys(due_now(session, alice, ENROLLED)) == [f"q{published.id}-enrolment"]
    assert due_now(session, bob, ENROLLED) == []


def test_a_double_submit_stores_once(session: Session) -> None:
    course, _questionnaire = course_with(session, ("enrolment", {}))
    alice = agree_to_health_data(session, make_user(session))
    enrol_at(session, alice, course, ENROLLED)
    item = due_now(session, alice, ENROLLED)[0]

    first = checkins.submit(session, user=alice, item=item, raw=answers(bother=6), now=ENROLLED)
    # The second request finds the occasion done, and so would a stale one racing the first.
    progress = progress_service.read(session, outline=item.outline, user_id=id_of(alice))
    seen_again = checkins.find(session, user=alice, progress=progress, key=item.key, now=ENROLLED)
    assert seen_again is not None
    assert seen_again.done
    again = checkins.submit(
        session, user=alice, item=seen_again, raw=answers(bother=1), now=ENROLLED
    )
    raced = checkins.submit(session, user=alice, item=item, raw=answers(bother=2), now=ENROLLED)

    assert first.created
    assert not again.created
    assert again.measurement.id == raced.measurement.id == first.measurement.id
    assert raced.measurement.answers["bother"] == 6
    assert len(session.exec(select(Measurement)).all()) == 1
