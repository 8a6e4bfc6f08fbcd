"""The drip schedule: a module opens at midnight in Amsterdam, `unlock_after_days` calendar days
after the day of enrolment, whatever the hour of enrolment or a clock change in between."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from api.accounts.models import User
from api.catalog import service
from api.catalog.models import Course
from api.catalog.schedule import opens_at
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from tests.factories import enable_totp, make_course, make_user

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def amsterdam(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("enrolled", "days", "expected"),
    [
        # Late in the evening or early in the morning: the calendar day counts, not the hour.
        (amsterdam(2026, 11, 2, 23, 30), 7, amsterdam(2026, 11, 9, 0, 0)),
        (amsterdam(2026, 11, 2, 0, 5), 7, amsterdam(2026, 11, 9, 0, 0)),
        # 23:30 UTC on 1 November is already 2 November in Amsterdam.
        (datetime(2026, 11, 1, 23, 30, tzinfo=UTC), 7, amsterdam(2026, 11, 9, 0, 0)),
        (amsterdam(2026, 11, 2, 12, 0), 0, amsterdam(2026, 11, 2, 0, 0)),
        # Across the end of summer time (25 October 2026): midnight is still midnight.
        (amsterdam(2026, 10, 20, 10, 0), 7, amsterdam(2026, 10, 27, 0, 0)),
        # Across the start of summer time (29 March 2026).
        (amsterdam(2026, 3, 25, 10, 0), 7, amsterdam(2026, 4, 1, 0, 0)),
    ],
)
def test_module_opens_at_amsterdam_midnight(
    enrolled: datetime, days: int, expected: datetime
) -> None:
    assert opens_at(enrolled, days) == expected


def test_opening_after_the_autumn_clock_change_is_midnight_winter_time() -> None:
    opening = opens_at(amsterdam(2026, 10, 20, 10, 0), 7)
    assert opening.astimezone(UTC) == datetime(2026, 10, 26, 23, 0, tzinfo=UTC)


def test_opening_after_the_spring_clock_change_is_midnight_summer_time() -> None:
    opening = opens_at(amsterdam(2026, 3, 25, 10, 0), 7)
    assert opening.astimezone(UTC) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)


def _enrolled(session: Session, enrolled_at: datetime) -> tuple[User, Course]:
    course = make_course(session, drip_days=[0, 7], free_preview_first=False)
    learner = make_user(session)
    enrolment = enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    enrolment.enrolled_at = enrolled_at
    session.flush()
    return learner, course


@pytest.mark.parametrize(
    ("enrolled", "last_closed_minute"),
    [
        (amsterdam(2026, 11, 2, 15, 0), amsterdam(2026, 11, 8, 23, 59)),
        (amsterdam(2026, 10, 20, 10, 0), amsterdam(2026, 10, 26, 23, 59)),
        (amsterdam(2026, 3, 25, 10, 0), amsterdam(2026, 3, 31, 23, 59)),
    ],
)
def test_week_two_is_closed_on_day_6_at_2359_and_open_on_day_7_at_midnight(
    session: Session, enrolled: datetime, last_closed_minute: datetime
) -> None:
    learner, course = _enrolled(session, enrolled)
    week_two_lesson = "les-2-1"

    with pytest.raises(service.LessonLocked) as locked:
        service.lesson_view(
            session,
            slug=course.slug,
            lesson_slug=week_two_lesson,
            viewer=learner,
            now=last_closed_minute,
        )
    assert locked.value.opens_at == last_closed_minute + timedelta(minutes=1)

    view = service.lesson_view(
        session,
        slug=course.slug,
        lesson_slug=week_two_lesson,
        viewer=learner,
        now=last_closed_minute + timedelta(minutes=1),
    )
    assert view.lesson.slug == week_two_lesson


def test_week_one_is_open_at_once(session: Session) -> None:
    enrolled = amsterdam(2026, 11, 2, 15, 0)
    learner, course = _enrolled(session, enrolled)
    view = service.lesson_view(
        session, slug=course.slug, lesson_slug="les-1-1", viewer=learner, now=enrolled
    )
    assert view.lesson.slug == "les-1-1"


def test_the_lock_names_the_opening_day(session: Session) -> None:
    learner, course = _enrolled(session, amsterdam(2026, 11, 2, 15, 0))
    with pytest.raises(service.LessonLocked) as locked:
        service.lesson_view(
            session,
            slug=course.slug,
            lesson_slug="les-2-1",
            viewer=learner,
            now=amsterdam(2026, 11, 3, 9, 0),
        )
    assert "9 november 2026" in locked.value.message


def test_without_enrolment_the_lock_names_no_day(session: Session) -> None:
    course = make_course(session, drip_days=[0, 7], free_preview_first=False)
    with pytest.raises(service.LessonLocked) as locked:
        service.lesson_view(
            session, slug=course.slug, lesson_slug="les-2-1", viewer=make_user(session)
        )
    assert locked.value.opens_at is None


def test_instructor_sees_every_module_without_waiting(session: Session) -> None:
    course = make_course(session, drip_days=[0, 7])
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    enable_totp(session, instructor)
    view = service.lesson_view(session, slug=course.slug, lesson_slug="les-2-1", viewer=instructor)
    assert view.lesson.slug == "les-2-1"


def test_all_at_once_course_ignores_unlock_days(session: Session) -> None:
    course = make_course(session, drip_days=[0, 7], free_preview_first=False)
    course.schedule = "all_at_once"
    learner = make_user(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    view = service.lesson_view(session, slug=course.slug, lesson_slug="les-2-1", viewer=learner)
    assert view.lesson.slug == "les-2-1"


def _assert_open_lessons_agree(session: Session, course: Course, viewer: User | None) -> None:
    for now in (amsterdam(2026, 11, 2, 15, 0), amsterdam(2026, 11, 10, 9, 0)):
        outline = service.outline(session, slug=course.slug, viewer=viewer, now=now)
        expected = {
            lesson.id for lesson in outline.lessons if service.may_open(viewer, outline, lesson)
        }
        assert service.open_lesson_ids(viewer, outline) == expected


def test_the_open_lessons_of_a_page_agree_with_may_open_for_every_viewer(
    session: Session,
) -> None:
    # The lesson and course pages list the open lessons per module (open_lesson_ids) instead
    # of asking may_open for each lesson; both must give the same answer for every viewer.
    enrolled = amsterdam(2026, 11, 2, 15, 0)
    learner, course = _enrolled(session, enrolled)
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    for viewer in (None, learner, make_user(session), instructor):
        _assert_open_lessons_agree(session, course, viewer)
    enable_totp(session, instructor)  # with her second factor she previews every lesson
    _assert_open_lessons_agree(session, course, instructor)
    with_preview = make_course(session, drip_days=[0, 7])  # its first lesson is a free preview
    for viewer in (None, learner):
        _assert_open_lessons_agree(session, with_preview, viewer)
    # The drip date makes a difference, so the comparisons above were not between equal sets.
    early = service.outline(session, slug=course.slug, viewer=learner, now=enrolled)
    late = service.outline(session, slug=course.slug, viewer=learner, now=enrolled + timedelta(8))
    assert service.open_lesson_ids(learner, early) < service.open_lesson_ids(learner, late)
