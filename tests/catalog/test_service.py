"""Reading courses: who sees what, in which order, and steps read out as sentences."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from api.accounts.models import Role
from api.catalog import service, steps
from api.catalog.models import Step
from api.db import utcnow
from api.errors import NotFound
from tests.factories import enable_totp, make_course, make_user


def test_published_courses_come_newest_first_and_drafts_not_at_all(session: Session) -> None:
    older = make_course(session)
    newer = make_course(session)
    unpublished_date = make_course(session)
    make_course(session, status="draft")
    older.published_at = utcnow() - timedelta(days=2)
    newer.published_at = utcnow() - timedelta(days=1)
    unpublished_date.published_at = None
    session.add_all([older, newer, unpublished_date])
    session.flush()

    slugs = [course.slug for course, _ in service.list_published(session)]

    # A published course without a date goes last on SQLite and PostgreSQL alike.
    assert slugs == [newer.slug, older.slug, unpublished_date.slug]


def test_the_featured_course_is_the_newest_paid_one(session: Session) -> None:
    assert service.featured(session) is None
    free = make_course(session)
    assert service.featured(session) is not None
    paid = make_course(session, price_cents=4900)
    make_course(session, price_cents=0)

    featured = service.featured(session)

    assert featured is not None
    assert featured[0].id == paid.id
    assert free.id != paid.id


def test_an_outline_keeps_module_and_lesson_order(session: Session) -> None:
    course = make_course(session, modules=3, lessons_per_module=2)

    outline = service.outline(session, slug=course.slug, viewer=None)

    assert [part.module.title for part in outline.modules] == ["Week 1", "Week 2", "Week 3"]
    assert [lesson.slug for lesson in outline.lessons] == [
        "les-1-1", "les-1-2", "les-2-1", "les-2-2", "les-3-1", "les-3-2",
    ]  # fmt: skip
    assert outline.lesson_count == 6
    assert outline.total_minutes == 3 * (5 + 6)
    assert outline.first_preview is not None
    assert outline.first_preview.slug == "les-1-1"


def test_each_lessons_place_and_module_are_worked_out_once_per_content_version(
    session: Session,
) -> None:
    course = make_course(session, modules=2, lessons_per_module=2)

    first = service.outline(session, slug=course.slug, viewer=None)
    second = service.outline(session, slug=course.slug, viewer=None)

    assert first is not second
    lessons = first.lessons
    assert first.place_of == {lesson.id: place for place, lesson in enumerate(lessons)}
    assert [first.module_of[lesson.id].title for lesson in lessons] == [
        "Week 1", "Week 1", "Week 2", "Week 2",
    ]  # fmt: skip
    # Every outline of the same version shares them ("Vandaag" asks on every visit).
    assert second.place_of is first.place_of
    assert second.module_of is first.module_of


def test_a_lesson_knows_its_place_and_neighbours(session: Session) -> None:
    owner = make_user(session, role=Role.instructor)
    enable_totp(session, owner)
    course = make_course(session, instructor=owner, modules=2, lessons_per_module=2)

    view = service.lesson_view(session, slug=course.slug, lesson_slug="les-2-1", viewer=owner)

    assert view.number == 3
    assert view.module.title == "Week 2"
    assert view.previous is not None
    assert view.previous.slug == "les-1-2"
    assert view.next is not None
    assert view.next.slug == "les-2-2"
    assert [step.position for step in view.steps] == [0, 1]


def test_unknown_slugs_are_not_found(session: Session) -> None:
    course = make_course(session)
    with pytest.raises(NotFound):
        service.outline(session, slug="bestaat-niet", viewer=None)
    with pytest.raises(NotFound):
        service.lesson_view(session, slug=course.slug, lesson_slug="bestaat-niet", viewer=None)


def test_a_locked_lesson_carries_its_course_for_the_lock_page(session: Session) -> None:
    course = make_course(session)

    with pytest.raises(service.LessonLocked) as locked:
        service.lesson_view(session, slug=course.slug, lesson_slug="les-1-2", viewer=None)

    assert locked.value.status_code == 403
    assert locked.value.outline is not None
    assert locked.value.outline.course.id == course.id
    assert locked.value.lesson is not None
    assert locked.value.lesson.slug == "les-1-2"


def test_who_may_preview(session: Session) -> None:
    owner = make_user(session, role=Role.instructor)
    other = make_user(session, role=Role.instructor)
    admin = make_user(session, role=Role.admin)
    learner = make_user(session)
    course = make_course(session, instructor=owner, status="draft")

    # Staff without their required second factor preview nothing.
    assert not service.can_preview(owner, course)
    assert not service.can_preview(admin, course)
    for user in (owner, other, admin):
        enable_totp(session, user)

    assert service.can_preview(owner, course)
    assert service.can_preview(admin, course)
    assert not service.can_preview(other, course)
    assert not service.can_preview(learner, course)
    assert not service.can_preview(None, course)
    assert not service.can_see(None, course)


@pytest.mark.usefixtures("english")
def test_an_exercise_reads_as_one_sentence() -> None:
    step = Step(
        lesson_id=1, kind="exercise", hold_seconds=8, relax_seconds=8, reps=10, sets=3,
        rest_seconds=30,
    )  # fmt: skip
    assert steps.describe(step) == (
        "Tighten for 8 counts, relax for 8 counts — 10 times, 3 sets, 30 seconds rest"
    )
    step.reps, step.sets, step.rest_seconds, step.side = 1, 1, 0, "both"
    assert (
        steps.describe(step)
        == "Tighten for 8 counts, relax for 8 counts — 1 time, 1 set, both sides"
    )


@pytest.mark.usefixtures("english")
def test_a_breathing_pattern_reads_as_one_sentence() -> None:
    step = Step(lesson_id=1, kind="breathing", inhale_seconds=4, exhale_seconds=6, cycles=10)
    assert steps.describe(step) == "Breathe in for 4 counts, breathe out for 6 counts — 10 times"
    step.hold_seconds = 2
    assert steps.describe(step) == (
        "Breathe in for 4 counts, hold for 2 counts, breathe out for 6 counts — 10 times"
    )


def test_a_text_step_has_no_dose() -> None:
    step = Step(lesson_id=1, kind="text", body="Lees dit.")
    assert steps.describe(step) == ""
    assert steps.params(step) == {}


def test_params_hold_the_timing_of_the_steps_kind_only() -> None:
    exercise = Step(lesson_id=1, kind="exercise", hold_seconds=8, relax_seconds=8, reps=10, sets=3)
    exercise.inhale_seconds = 4  # not an exercise field: left out
    breathing = Step(
        lesson_id=1, kind="breathing", inhale_seconds=4, hold_seconds=0, exhale_seconds=6, cycles=5
    )

    assert steps.params(exercise) == {"hold_seconds": 8, "relax_seconds": 8, "reps": 10, "sets": 3}
    assert steps.params(breathing) == {
        "inhale_seconds": 4,
        "hold_seconds": 0,
        "exhale_seconds": 6,
        "cycles": 5,
    }
