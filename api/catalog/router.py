"""JSON endpoints for the catalog: published courses, a course's outline and a lesson."""

from typing import Any

from fastapi import APIRouter

from api.accounts.access import CurrentUser
from api.accounts.models import User
from api.catalog import service, steps, video
from api.catalog.markdown import render_markdown
from api.catalog.models import Course, Lesson, Step
from api.catalog.schemas import (
    CourseDetail,
    CourseSummary,
    FaqPublic,
    InstructorPublic,
    LessonDetail,
    LessonLink,
    LessonSummary,
    ModulePublic,
    PicturePublic,
    StepPublic,
    VideoPublic,
)
from api.db import SessionDep
from api.errors import UNAVAILABLE, ErrorPublic, InvalidPublic
from api.kit.ids import id_of

router = APIRouter(prefix="/api/v1", tags=["catalog"])


ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorPublic, "description": "The lesson opens with enrolment (lesson_locked)"},
    404: {"model": ErrorPublic, "description": "No such course or lesson (not_found)"},
    # Replaces FastAPI's default description of a 422, which is not the shape Kern answers with.
    422: {"model": InvalidPublic, "description": "Input that breaks a rule (invalid)"},
    **UNAVAILABLE,
}


def _summary(course: Course, instructor: User) -> dict[str, Any]:
    return {
        "slug": course.slug,
        "title": course.title,
        "subtitle": course.subtitle,
        "language": course.language,
        "price_cents": course.price_cents,
        "is_free": course.is_free,
        "instructor": InstructorPublic(name=instructor.name),
    }


def _step(step: Step) -> StepPublic:
    return StepPublic(
        id=id_of(step),
        kind=step.kind,
        title=step.title,
        body_html=render_markdown(step.body),
        params=steps.params(step),
        cues=list(step.cues),
        description=steps.describe(step),
        picture=(
            PicturePublic(url=f"/media/{step.media_file}", alt=step.media_alt or "")
            if step.media_file
            else None
        ),
    )


def _link(lesson: Lesson | None) -> LessonLink | None:
    return LessonLink(slug=lesson.slug, title=lesson.title) if lesson else None


@router.get("/courses", responses=UNAVAILABLE)
def list_courses(session: SessionDep) -> list[CourseSummary]:
    """Published courses, newest first."""
    return [CourseSummary(**_summary(*row)) for row in service.list_published(session)]


@router.get("/courses/{slug}", responses=ERRORS)
def read_course(session: SessionDep, user: CurrentUser, slug: str) -> CourseDetail:
    """A course with its modules and lessons; drafts only for their instructor and admins."""
    outline = service.outline(session, slug=slug, viewer=user)
    course = outline.course
    modules = [
        ModulePublic(
            title=part.module.title,
            summary=part.module.summary,
            unlock_after_days=part.module.unlock_after_days,
            lessons=[
                LessonSummary(
                    slug=lesson.slug,
                    title=lesson.title,
                    estimated_minutes=lesson.estimated_minutes,
                    free_preview=lesson.free_preview,
                    locked=not service.may_open(user, outline, lesson),
                )
                for lesson in part.lessons
            ],
        )
        for part in outline.modules
    ]
    return CourseDetail(
        **_summary(course, outline.instructor),
        status=course.status,
        schedule=course.schedule,
        description_html=render_markdown(course.description),
        outcomes=list(course.outcomes),
        faq=[
            FaqPublic(
                question=str(item.get("question", "")),
                answer_html=render_markdown(str(item.get("answer", ""))),
            )
            for item in course.faq
        ],
        lesson_count=outline.lesson_count,
        total_minutes=outline.total_minutes,
        modules=modules,
    )


@router.get("/courses/{slug}/lessons/{lesson_slug}", responses=ERRORS)
def read_lesson(
    session: SessionDep, user: CurrentUser, slug: str, lesson_slug: str
) -> LessonDetail:
    """A lesson the visitor may open: free previews for all, the rest with enrolment."""
    view = service.lesson_view(session, slug=slug, lesson_slug=lesson_slug, viewer=user)
    lesson = view.lesson
    embed = video.embed_for(
        lesson.video_provider, lesson.video_ref, lesson.video_title or lesson.title
    )
    return LessonDetail(
        slug=lesson.slug,
        title=lesson.title,
        course_slug=view.outline.course.slug,
        module_title=view.module.title,
        number=view.number,
        lesson_count=view.outline.lesson_count,
        estimated_minutes=lesson.estimated_minutes,
        free_preview=lesson.free_preview,
        body_html=render_markdown(lesson.body),
        video=VideoPublic(provider=embed.provider, id=embed.ref, title=embed.title)
        if embed
        else None,
        steps=[_step(step) for step in view.steps],
        previous=_link(view.previous),
        next=_link(view.next),
    )
