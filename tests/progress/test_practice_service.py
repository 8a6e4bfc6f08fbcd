"""The practice log as a service: stored once per client id (even when the same log arrives
several times at once), dated on the Amsterdam calendar, and summed into weeks and streaks."""

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson, Step, StepKind
from api.db import WRITE_INTENT
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource
from api.errors import FormError, NotFound
from api.progress import practice
from api.progress import service as progress_service
from api.progress import today as today_service
from api.progress.models import PracticeLog
from tests.factories import agree_to_health_data, make_course, make_user

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def _enrol(session: Session, learner: User, course: Course, at: datetime = NOW) -> None:
    enrolment = enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    enrolment.enrolled_at = at
    session.flush()


def _step(session: Session, course: Course, kind: StepKind, lesson_slug: str = "les-1-1") -> Step:
    outline = catalog.outline(session, slug=course.slug, viewer=None)
    lesson = next(lesson for lesson in outline.lessons if lesson.slug == lesson_slug)
    return session.exec(select(Step).where(Step.lesson_id == lesson.id, Step.kind == kind)).one()


def _entry(step: Step, client_id: str = "c0ffee-0001", **changes: object) -> practice.PracticeInput:
    values: dict[str, object] = {
        "client_id": client_id,
        "step_id": step.id,
        "practised_at": NOW,
        "duration_seconds": 480,
        "sets_done": 3,
        "reps_done": 30,
        "effort": 3,
        "note": "Ging goed",
    }
    values.update(changes)
    return practice.PracticeInput(**values)  # type: ignore[arg-type]


@pytest.fixture
def alice(session: Session) -> User:
    """A learner who agreed to Kern keeping her practice (tests/consent/ walks the other case)."""
    return agree_to_health_data(session, make_user(session, name="Alice"))


@pytest.fixture
def course(session: Session, alice: User) -> Course:
    course = make_course(session, free_preview_first=False, steps_per_lesson=3)
    _enrol(session, alice, course)
    return course


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(PracticeLog)).one()


def test_a_repeat_of_the_same_client_id_is_stored_once(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    first, created = practice.log(session, user=alice, entry=_entry(step), now=NOW)
    again, created_again = practice.log(session, user=alice, entry=_entry(step), now=NOW)
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert _count(session) == 1


def test_two_learners_may_use_the_same_client_id(
    session: Session, alice: User, course: Course
) -> None:
    bob = agree_to_health_data(session, make_user(session, name="Bob"))
    _enrol(session, bob, course)
    step = _step(session, course, StepKind.exercise)
    practice.log(session, user=alice, entry=_entry(step), now=NOW)
    _log, created = practice.log(session, user=bob, entry=_entry(step), now=NOW)
    assert created
    assert _count(session) == 2


def test_the_log_keeps_what_was_done_and_the_step_it_was(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.breathing)
    log, _created = practice.log(
        session, user=alice, entry=_entry(step, sets_done=0, reps_done=10, effort=None), now=NOW
    )
    assert (log.step_id, log.course_id, log.step_title, log.step_kind) == (
        step.id,
        course.id,
        step.title,
        "breathing",
    )
    assert (log.reps_done, log.effort, log.note, log.duration_seconds) == (
        10,
        None,
        "Ging goed",
        480,
    )


def test_a_practice_just_after_midnight_in_amsterdam_counts_for_that_day(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    # 23:30 UTC on 17 November is 00:30 on 18 November in Amsterdam.
    late = datetime(2026, 11, 17, 23, 30, tzinfo=UTC)
    log, _created = practice.log(
        session, user=alice, entry=_entry(step, practised_at=late), now=NOW
    )
    assert log.practised_on == date(2026, 11, 18)


def test_a_log_that_waited_offline_for_days_keeps_its_own_time(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    earlier = NOW - timedelta(days=3)
    log, _created = practice.log(
        session, user=alice, entry=_entry(step, practised_at=earlier), now=NOW
    )
    assert log.practised_at == earlier


@pytest.mark.parametrize(
    "practised_at",
    [NOW + timedelta(hours=1), NOW - timedelta(days=91), datetime(2026, 11, 18, 12, 0)],
)
def test_an_impossible_time_is_refused_and_nothing_is_stored(
    session: Session, alice: User, course: Course, practised_at: datetime
) -> None:
    step = _step(session, course, StepKind.exercise)
    with pytest.raises(FormError) as refused:
        practice.log(session, user=alice, entry=_entry(step, practised_at=practised_at), now=NOW)
    assert "practised_at" in refused.value.fields
    assert _count(session) == 0


def test_a_phone_clock_slightly_ahead_is_accepted_as_now(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    ahead = NOW + timedelta(minutes=3)
    log, _created = practice.log(
        session, user=alice, entry=_entry(step, practised_at=ahead), now=NOW
    )
    assert log.practised_at == NOW


def test_a_text_step_cannot_be_logged(session: Session, alice: User, course: Course) -> None:
    step = _step(session, course, StepKind.text)
    with pytest.raises(FormError):
        practice.log(session, user=alice, entry=_entry(step), now=NOW)
    assert _count(session) == 0


def test_a_step_of_a_course_she_is_not_enrolled_in_is_refused(
    session: Session, course: Course
) -> None:
    bob = agree_to_health_data(session, make_user(session, name="Bob"))
    step = _step(session, course, StepKind.exercise, lesson_slug="les-1-2")
    with pytest.raises(catalog.LessonLocked):
        practice.log(session, user=bob, entry=_entry(step), now=NOW)
    assert _count(session) == 0


def test_a_step_of_a_module_that_has_not_opened_is_refused(session: Session, alice: User) -> None:
    drip = make_course(session, drip_days=[0, 7], free_preview_first=False)
    _enrol(session, alice, drip)
    step = _step(session, drip, StepKind.exercise, lesson_slug="les-2-1")
    with pytest.raises(catalog.LessonLocked) as locked:
        practice.log(session, user=alice, entry=_entry(step), now=NOW)
    assert locked.value.opens_at is not None
    log, created = practice.log(
        session, user=alice, entry=_entry(step), now=NOW + timedelta(days=7)
    )
    assert created
    assert log.step_id == step.id


def test_an_unknown_step_is_not_found(session: Session, alice: User, course: Course) -> None:
    step = _step(session, course, StepKind.exercise)
    with pytest.raises(NotFound):
        practice.log(session, user=alice, entry=_entry(step, step_id=10**9), now=NOW)


def _log_on(session: Session, user: User, step: Step, days: list[date]) -> None:
    for n, day in enumerate(days):
        moment = datetime.combine(day, datetime.min.time(), AMSTERDAM) + timedelta(hours=8)
        practice.log(
            session,
            user=user,
            entry=_entry(step, client_id=f"day-{day}-{n}", practised_at=moment),
            now=max(NOW, moment),
        )


def test_streak_counts_days_in_a_row_up_to_yesterday_while_today_is_open() -> None:
    today = date(2026, 11, 18)
    days = {date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 13)}
    assert practice.streak(days, today) == 3
    assert practice.streak(days | {today}, today) == 4
    assert practice.streak({date(2026, 11, 16)}, today) == 0
    assert practice.streak(set(), today) == 0


def test_week_sums_practices_and_seconds_per_day_from_monday(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    _log_on(session, alice, step, [date(2026, 11, 16), date(2026, 11, 16), date(2026, 11, 18)])
    _log_on(session, alice, step, [date(2026, 11, 15)])  # the Sunday before: another week
    bob = agree_to_health_data(session, make_user(session, name="Bob"))
    _enrol(session, bob, course)
    _log_on(session, bob, step, [date(2026, 11, 17)])  # someone else's practice

    week = practice.week(session, user_id=alice.id or 0, monday=date(2026, 11, 16))

    assert [(d.day.day, d.count, d.seconds) for d in week] == [
        (16, 2, 960),
        (17, 0, 0),
        (18, 1, 480),
        (19, 0, 0),
        (20, 0, 0),
        (21, 0, 0),
        (22, 0, 0),
    ]


def test_entries_are_newest_first_and_page_with_before(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    _log_on(session, alice, step, [date(2026, 11, 14), date(2026, 11, 16), date(2026, 11, 15)])
    first_page = practice.entries(session, user_id=alice.id or 0, limit=2)
    assert [e.log.practised_on.day for e in first_page] == [16, 15]
    rest = practice.entries(
        session, user_id=alice.id or 0, limit=2, before=first_page[-1].log.practised_at
    )
    assert [e.log.practised_on.day for e in rest] == [14]
    assert rest[0].course_slug == course.slug
    assert rest[0].lesson_slug == "les-1-1"


def test_paging_by_cursor_reaches_each_log_at_the_same_moment_once(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise)
    moment = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    for n in range(3):
        practice.log(
            session,
            user=alice,
            entry=_entry(step, f"same-{n:04d}", practised_at=moment),
            now=moment,
        )

    first = practice.entries(session, user_id=alice.id or 0, limit=2)
    rest = practice.entries(
        session, user_id=alice.id or 0, limit=2, cursor=practice.next_cursor(first[-1])
    )

    ids = [entry.log.client_id for entry in first + rest]
    assert sorted(ids) == ["same-0000", "same-0001", "same-0002"]
    # The moment alone, as pages were cut before, loses the third.
    by_moment = practice.entries(
        session, user_id=alice.id or 0, limit=2, before=first[-1].log.practised_at
    )
    assert by_moment == []


def test_today_shows_the_exercises_of_opened_lessons_with_todays_counts(
    session: Session, alice: User, course: Course
) -> None:
    outline = catalog.outline(session, slug=course.slug, viewer=alice, now=NOW)
    progress = progress_service.read(session, outline=outline, user_id=alice.id or 0)
    opened = outline.lessons[1]
    progress_service.record_visit(
        session, progress=progress, user_id=alice.id or 0, lesson=opened, now=NOW
    )
    step = _step(session, course, StepKind.exercise, lesson_slug=opened.slug)
    practice.log(session, user=alice, entry=_entry(step), now=NOW)

    today = today_service.read(session, user=alice, now=NOW)

    assert [(item.step.kind, item.lesson.slug) for item in today.practice] == [
        ("exercise", opened.slug),
        ("breathing", opened.slug),
    ]
    assert [item.done_today for item in today.practice] == [1, 0]
    assert today.streak == 1
    assert today.practised_today
    [course_today] = today.courses
    assert course_today.next_lesson is not None
    assert course_today.next_lesson.slug == opened.slug


def test_today_points_to_the_next_lesson_and_the_day_it_opens(
    session: Session, alice: User
) -> None:
    drip = make_course(session, drip_days=[0, 7], lessons_per_module=1, free_preview_first=False)
    _enrol(session, alice, drip)
    outline = catalog.outline(session, slug=drip.slug, viewer=alice, now=NOW)
    progress_service.complete(session, user_id=alice.id or 0, lesson=outline.lessons[0], now=NOW)

    today = today_service.read(session, user=alice, now=NOW)

    [course_today] = today.courses
    assert course_today.next_lesson is not None
    assert course_today.next_lesson.slug == "les-2-1"
    assert course_today.next_opens_at == datetime(2026, 11, 25, 0, 0, tzinfo=AMSTERDAM)
    assert course_today.progress.percent == 50


def test_today_leaves_out_refunded_courses(session: Session, alice: User, course: Course) -> None:
    enrolment = session.exec(select(Enrolment).where(Enrolment.user_id == alice.id)).one()
    enrolment.status = "refunded"
    session.flush()
    today = today_service.read(session, user=alice, now=NOW)
    assert today.courses == []
    assert today.practice == []


# --- real concurrency --------------------------------------------------------------------------


@pytest.fixture
def committed(engine: Engine) -> Iterator[tuple[User, Step]]:
    """A learner and a step committed for real, so concurrent sessions see them; removed after."""
    # Kept loaded after commit: the threads read them without going back to this session.
    with Session(engine, expire_on_commit=False) as session:
        learner = agree_to_health_data(session, make_user(session))
        course = make_course(session, free_preview_first=False)
        _enrol(session, learner, course)
        step = _step(session, course, StepKind.exercise)
        session.commit()
        try:
            yield learner, step
        finally:
            session.rollback()
            session.execute(delete(PracticeLog))
            session.execute(delete(Enrolment))
            session.execute(delete(Course))
            session.execute(delete(User))
            session.commit()


def test_the_same_log_sent_eight_times_at_once_is_stored_once(
    engine: Engine, committed: tuple[User, Step]
) -> None:
    learner, step = committed
    barrier = threading.Barrier(8)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with Session(engine, execution_options={WRITE_INTENT: True}) as session:
                barrier.wait()
                _log, created = practice.log(session, user=learner, entry=_entry(step), now=NOW)
                session.commit()
                outcomes.append(created)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == [False] * 7 + [True]
    with Session(engine) as session:
        assert _count(session) == 1


def test_a_repeat_after_the_enrolment_ended_still_finds_the_stored_log(
    session: Session, alice: User, course: Course
) -> None:
    step = _step(session, course, StepKind.exercise, lesson_slug="les-1-2")
    first, _created = practice.log(session, user=alice, entry=_entry(step), now=NOW)
    enrolment = session.exec(select(Enrolment).where(Enrolment.user_id == alice.id)).one()
    enrolment.status = "revoked"
    session.flush()

    again, created = practice.log(session, user=alice, entry=_entry(step), now=NOW)
    assert not created
    assert again.id == first.id
    with pytest.raises(catalog.LessonLocked):
        practice.log(session, user=alice, entry=_entry(step, client_id="c0ffee-0002"), now=NOW)


def _open_in_turn(
    session: Session, user: User, outline: catalog.CourseOutline, lessons: list[Lesson]
) -> None:
    """She opens `lessons` one a minute from NOW, in this order."""
    for minutes, lesson in enumerate(lessons):
        progress = progress_service.read(session, outline=outline, user_id=user.id or 0)
        progress_service.record_visit(
            session,
            progress=progress,
            user_id=user.id or 0,
            lesson=lesson,
            now=NOW + timedelta(minutes=minutes),
        )


def test_today_takes_the_exercises_of_the_two_lessons_opened_last(
    session: Session, alice: User, course: Course
) -> None:
    outline = catalog.outline(session, slug=course.slug, viewer=alice, now=NOW)
    first, second, third = outline.lessons[:3]
    _open_in_turn(session, alice, outline, [second, first, third])

    today = today_service.read(session, user=alice, now=NOW + timedelta(minutes=5))

    # In course order, from the two she opened last: the first and the third lesson.
    assert [item.lesson.slug for item in today.practice] == [
        first.slug,
        first.slug,
        third.slug,
        third.slug,
    ]


def test_today_passes_over_a_lesson_opened_last_that_is_closed_now(
    session: Session, alice: User
) -> None:
    """The two lessons opened last that are open now: one she opened later whose module is
    closed to her (a later module of a drip course) gives no exercises, an older one does."""
    course = make_course(
        session, free_preview_first=False, steps_per_lesson=3, drip_days=[0, 7], modules=2
    )
    _enrol(session, alice, course)
    outline = catalog.outline(session, slug=course.slug, viewer=alice, now=NOW)
    first, second, third, closed = outline.lessons[:4]
    _open_in_turn(session, alice, outline, [first, second, third, closed])

    today = today_service.read(session, user=alice, now=NOW + timedelta(minutes=5))

    assert closed.slug == "les-2-1"
    assert [item.lesson.slug for item in today.practice] == [
        second.slug,
        second.slug,
        third.slug,
        third.slug,
    ]


def test_where_she_goes_on_is_worked_out_from_her_records_in_course_order(
    session: Session, alice: User, course: Course
) -> None:
    """She goes on with the lesson she opened last, or after it; of two opened at the same
    moment the first in the course counts; only the course's own lessons count as done."""
    outline = catalog.outline(session, slug=course.slug, viewer=alice, now=NOW)
    first, second, third, *_rest = outline.lessons
    user_id = alice.id or 0
    progress_service.complete(session, user_id=user_id, lesson=third, now=NOW)
    for lesson in (second, first):
        progress = progress_service.read(session, outline=outline, user_id=user_id)
        progress_service.record_visit(
            session, progress=progress, user_id=user_id, lesson=lesson, now=NOW
        )

    progress = progress_service.read(session, outline=outline, user_id=user_id)
    stray = progress_service.ProgressRecord(
        lesson_id=10**9, course_id=course.id or 0, last_visited_at=NOW, completed_at=NOW,
        video_position_seconds=0,
    )  # fmt: skip
    progress.by_lesson[stray.lesson_id] = stray

    assert progress.last_visited is first
    assert progress.resume is first
    assert progress.completed_count == 1
    later = NOW + timedelta(minutes=1)
    progress_service.record_visit(
        session, progress=progress, user_id=user_id, lesson=third, now=later
    )
    progress = progress_service.read(session, outline=outline, user_id=user_id)
    assert progress.last_visited is third
    assert progress.resume is outline.lessons[3]
