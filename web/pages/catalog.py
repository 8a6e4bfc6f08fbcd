"""The catalog, a course's page and its lessons, as a learner reads them."""

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlmodel import Session

from api.accounts.access import RequireUser, remember, session_token, visitor_of
from api.accounts.models import User
from api.catalog import course_pages, lesson_page, service, steps, video
from api.catalog.content import version_of
from api.catalog.markdown import render_markdown
from api.catalog.models import Course, CourseStatus, Lesson, Step, StepKind, VideoProvider
from api.clock import Now, now_of
from api.cohorts import seats as cohort_seats
from api.cohorts import service as cohort_service
from api.consent import service as consent_service
from api.db import SessionDep, read_on_loop
from api.enrolment import service as enrolment_service
from api.errors import NotFound
from api.i18n import current_locale, ngettext
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.media import owners, streams
from api.payments import plans
from api.progress import service as progress_service
from api.progress.service import CourseProgress
from api.questionnaires.selftest import SelfTestLink
from api.security import csrf
from api.terms.waiver import WAIVER_TEXT
from web.fragments import Fragments
from web.pages.common import page, settings_of
from web.pages.conversations import ask_form_context
from web.templating import locale_of, practice_identity_of, render, render_for, render_part

router = APIRouter(include_in_schema=False)

# How the guided player finds a step's timing: data-hold, data-reps, ...
DATA_ATTRIBUTES = {
    "hold_seconds": "hold",
    "relax_seconds": "relax",
    "reps": "reps",
    "sets": "sets",
    "rest_seconds": "rest",
    "side": "side",
    "inhale_seconds": "inhale",
    "exhale_seconds": "exhale",
    "cycles": "cycles",
}
PRACTICE_KINDS = (StepKind.exercise.value, StepKind.breathing.value)
# The JSON endpoints the lesson page's scripts talk to (see api/progress/router.py).
PRACTICE_API = "/api/v1/practice"
PRACTICE_LOG_PAGE = "/practice"


@dataclass(frozen=True)
class StepView:
    """A step as a page shows it: plain-text dose, instructions and player data."""

    step: Step
    description: str
    body_html: Markup
    data: dict[str, str]
    # "image" or "video" for an exercise with a picture of its position, else "".
    picture: str = ""


def step_view(step: Step) -> StepView:
    """The step with its dose in words and its timing as data-* attributes for the player."""
    data = {"kind": step.kind}
    data.update({DATA_ATTRIBUTES[name]: str(v) for name, v in steps.params(step).items()})
    kind = owners.kind_of(step.media_file) if step.media_file else None
    picture = kind.value if kind is not None else ""
    return StepView(step, steps.describe(step), render_markdown(step.body), data, picture)


def completed_text(progress: CourseProgress) -> str:
    """E.g. "5 of 18 lessons completed", for the course and lesson pages and Vandaag."""
    return ngettext(
        "%(done)s of %(num)s lesson completed",
        "%(done)s of %(num)s lessons completed",
        progress.outline.lesson_count,
        done=progress.completed_count,
    )


def _open_lessons(user: User | None, outline: service.CourseOutline) -> set[int | None]:
    """Ids of the lessons this visitor may open, for links and lock marks."""
    return service.open_lesson_ids(user, outline)


def lesson_url(slug: str, lesson: Lesson) -> str:
    return f"/courses/{slug}/lessons/{lesson.slug}"


def locked_page(
    request: Request, session: Session, now: datetime, locked: service.LessonLocked
) -> HTMLResponse:
    """The friendly 403 page: when a drip lesson opens, or how to buy the course to open it."""
    course = locked.outline.course if locked.outline else None
    context = {
        "outline": locked.outline,
        "course": course,
        "lesson": locked.lesson,
        "message": locked.message,
        "opens_at": locked.opens_at,
        "markdown": render_markdown,
        # The buy form shows when the lock is not a date (catalog/locked.html).
        **buy_form_context(request, session, course, now, offered=locked.opens_at is None),
    }
    return render(request, "catalog/locked.html", context, status_code=403)


# Shared when a course has no cover yet: the app's own icon.
FALLBACK_SHARE_IMAGE = "/static/img/app/icon-512.png"


def share_context(request: Request, outline: service.CourseOutline) -> dict[str, Any]:
    """Open Graph values and schema.org `Course` data (as HTML-safe JSON) for the course page."""
    course = outline.course
    base = settings_of(request).base_url.rstrip("/")
    url = f"{base}/courses/{course.slug}"
    image = f"/media/{course.cover_image}" if course.cover_image else FALLBACK_SHARE_IMAGE
    description = course.subtitle or course.title
    identity = practice_identity_of(request)
    provider = identity.trading_name if identity is not None and identity.trading_name else "Kern"
    price = f"{course.price_cents // 100}.{course.price_cents % 100:02d}"
    data = {
        "@context": "https://schema.org",
        "@type": "Course",
        "name": course.title,
        "description": description,
        "url": url,
        "inLanguage": course.language,
        "image": base + image,
        "provider": {"@type": "Organization", "name": provider, "url": base},
        "offers": {
            "@type": "Offer",
            "category": "Free" if course.is_free else "Paid",
            "price": price,
            "priceCurrency": "EUR",
            "priceSpecification": {
                "@type": "PriceSpecification",
                "price": price,
                "priceCurrency": "EUR",
                "valueAddedTaxIncluded": True,
            },
            "url": url,
        },
    }
    return {
        "share": {
            "title": course.title,
            "description": description,
            "image": base + image,
            "image_alt": (course.cover_alt or "") if course.cover_image else "",
            "url": url,
        },
        # htmlsafe_json_dumps writes <, >, & and ' as \u escapes: no text can end the script.
        "course_json_ld": htmlsafe_json_dumps(data),
    }


def buy_form_context(
    request: Request, session: Session, course: Course | None, now: datetime, *, offered: bool
) -> dict[str, Any]:
    """What the buy form (catalog/enrol.html) needs wherever it is shown: on the course page,
    at the end of a free lesson and on a locked lesson. One builder, so the three offer the
    same: the price, the payment plan and, in a course that runs in cohorts, the coming groups
    and the one she would join. `offered`: whether the page shows the form at all (the groups
    cost a statement, which a page without the form does not pay)."""
    cohorts = (
        cohort_service.offer(session, course=course, now=now)
        if offered and course is not None
        else None
    )
    return _buy_form(request, course, cohorts=cohorts)


def _buy_form(
    request: Request, course: Course | None, *, cohorts: cohort_service.Offer | None
) -> dict[str, Any]:
    """`buy_form_context` with the cohorts on offer already read."""
    return {
        # Back from Stripe's page without paying: the enrol area says nothing was charged.
        "checkout_cancelled": request.query_params.get("checkout") == "cancelled",
        "can_buy": settings_of(request).payments_available,
        # The demo checkout takes no plan and no code: the buy form says so.
        "demo_checkout": settings_of(request).demo_checkout,
        "plan": plans.offer(course) if course is not None else None,
        "waiver_text": WAIVER_TEXT,
        "cohorts": cohorts,
    }


def buy_context(user: User | None, outline: service.CourseOutline) -> bool:
    """Whether the page offers this visitor the course: not enrolled, and not its instructor."""
    return not outline.enrolled and not service.can_preview(user, outline.course)


@page("/courses")
async def list_courses(request: Request) -> HTMLResponse:
    """Every published course, and the free self-tests."""
    # Her session, the courses and the self-tests come in one statement, read and rendered on
    # the event loop, as the lesson page is (docs/performance.md#one-statement-per-page).
    return await read_on_loop(request, _catalog_page)


def _catalog_page(request: Request, session: Session) -> HTMLResponse:
    found = course_pages.read_catalog(
        session,
        settings_of(request),
        token=session_token(request),
        language=locale_of(request),
    )
    remember(request, found.visitor)
    context = {
        "courses": found.courses,
        "course_list": course_list(found.courses, locale_of(request)),
        "self_tests": found.self_tests,
    }
    return render(request, "catalog/index.html", context)


# The catalog's list by its courses' card values and the language: the same for every visitor,
# and a course's new title, price or teacher's name is a new key
# (docs/performance.md#rendered-fragments).
_course_lists = Fragments(limit=64)


def course_list(
    courses: list[tuple[course_pages.CourseCard, course_pages.Teacher]], locale: str
) -> Markup:
    """The catalog's cards, rendered once per list and language."""
    key = (tuple(courses), locale)
    return _course_lists.get(
        key, lambda: render_part("catalog/course_list.html", {"courses": courses}, locale)
    )


@page("/courses/{slug}")
async def show_course(request: Request) -> HTMLResponse:
    """What the course teaches, its lessons, price, teacher and questions; for an enrolled
    learner also how far she is and where to go on."""
    # One statement, on the event loop, as for the catalog.
    now, slug = await now_of(request), request.path_params["slug"]
    return await read_on_loop(request, course_page, now, slug)


def course_page(
    request: Request, session: Session, now: datetime, slug: str, **extra: Any
) -> HTMLResponse:
    """The course page; `extra` (values and errors of a refused buy form) goes to its template."""
    # Her session, the course, her enrolment and progress, the self-tests and the coming
    # cohorts come in one statement (docs/performance.md#one-statement-per-page).
    found = course_pages.read_course(
        session,
        settings_of(request),
        token=session_token(request),
        slug=slug,
        now=now,
        language=locale_of(request),
    )
    if found is None:
        # No such course: the 404 page still shows who she is.
        visitor_of(request, session)
        raise NotFound(_("We could not find this course."))
    remember(request, found.visitor)
    user = found.visitor.signed_in
    outline = service.outline_of(
        session,
        course=found.course,
        instructor=found.instructor,
        enrolment=found.enrolment,
        viewer=user,
        now=now,
        profile=found.profile,
        takes_intakes=found.takes_intakes,
    )
    course = outline.course
    offered = not outline.enrolled
    open_lessons = _open_lessons(user, outline)
    context = {
        "outline": outline,
        # Hers when she follows the course (her progress in it), else the one every visitor
        # who may open these lessons sees.
        "outline_html": None
        if outline.enrolled
        else lesson_list(outline, open_lessons, locale_of(request)),
        # The self-tests this course carries or that suggest it.
        "self_tests": [test for test in found.self_tests if test.concerns(course.slug)],
        "course": course,
        "is_draft": course.status == CourseStatus.draft,
        "open_lessons": open_lessons,
        "progress": CourseProgress(outline, found.progress) if outline.enrolled else None,
        "completed_text": completed_text,
        # For an enrolled learner's preparation for her group (cohorts/before_start.html).
        "markdown": render_markdown,
        **course_about(outline, locale_of(request)),
        **_buy_form(
            request,
            course,
            cohorts=cohort_service.offer_of(course, found.cohorts, now=now) if offered else None,
        ),
        "offer": buy_context(user, outline),
        **share_context(request, outline),
        **extra,
    }
    if user is None and not extra:
        # Not signed in: the body is the same for every such visitor, kept for what it shows.
        context["body_html"] = public_body(PublicCourse.of(context), locale_of(request))
    else:
        context["body_html"] = render_for(request, "catalog/course_body.html", context)
    return render(request, "catalog/course.html", context)


@dataclass(frozen=True, slots=True)
class CourseAbout:
    """What the course page says about the course and its teacher, the same for every visitor:
    plain values, which are the key its parts are kept by (catalog/course_about.html and
    catalog/course_faq.html see nothing else)."""

    language: str
    outcomes: tuple[str, ...]
    description: str
    teacher_id: int
    teacher_name: str
    photo: str | None
    photo_alt: str
    credentials: str
    bio: str
    takes_intakes: bool
    testimonials: tuple[tuple[str, str], ...]  # (text, name)
    faq: tuple[tuple[str, str], ...]  # (question, answer)

    @classmethod
    def of(cls, outline: service.CourseOutline) -> "CourseAbout":
        course, profile = outline.course, outline.profile
        return cls(
            language=course.language,
            outcomes=tuple(course.outcomes),
            description=course.description,
            teacher_id=id_of(outline.instructor),
            teacher_name=outline.instructor.name,
            photo=profile.photo if profile else None,
            photo_alt=profile.photo_alt if profile else "",
            credentials=profile.credentials if profile else "",
            bio=profile.bio if profile else "",
            takes_intakes=outline.takes_intakes,
            testimonials=tuple(
                (str(item.get("text", "")), str(item.get("name", "")))
                for item in course.testimonials or ()
            ),
            faq=tuple(
                (str(item.get("question", "")), str(item.get("answer") or ""))
                for item in course.faq
            ),
        )


class Preview(NamedTuple):
    """The free lesson a visitor may try."""

    slug: str


class VisitorOutline(NamedTuple):
    """What the course page's body reads of the course's outline for a visitor who is not
    signed in. She follows no course, so there is no enrolment of hers and nothing to resume."""

    instructor: course_pages.Teacher
    lesson_count: int
    total_minutes: int
    first_preview: Preview | None
    enrolled: bool
    enrolment: None


class ShownCohort(NamedTuple):
    """A coming group as the enrol area shows it: its days, places and state (as of today)."""

    id: int
    starts_on: date
    opens_on: date | None
    places_left: int | None
    state: str


class ShownOffer(NamedTuple):
    """The groups of a course that runs in cohorts, as cohorts/offer.html reads them."""

    cohorts: tuple[ShownCohort, ...]
    open: ShownCohort | None

    def state(self, cohort: ShownCohort) -> str:
        return cohort.state

    @classmethod
    def of(cls, offer: cohort_service.Offer) -> "ShownOffer":
        def shown(cohort: cohort_service.AnyCohort) -> ShownCohort:
            return ShownCohort(
                id_of(cohort),
                cohort.starts_on,
                cohort.opens_on,
                cohort.places_left,
                offer.state(cohort),
            )

        chosen = offer.open
        return cls(
            tuple(shown(cohort) for cohort in offer.cohorts),
            shown(chosen) if chosen is not None else None,
        )


@dataclass(frozen=True, slots=True)
class PublicCourse:
    """The course page's body as a visitor who is not signed in sees it
    (catalog/course_body.html, with its enrol area, groups, self-tests and buy bar): every value
    those templates read, as plain values. It is the key the body is kept by and all the
    templates see, so a change of any of them is a new key on the very next request
    (docs/performance.md#rendered-fragments). The parts already kept (about, lessons,
    questions) are in it as their rendered text."""

    course: course_pages.CourseCard
    outline: VisitorOutline
    is_draft: bool
    cohorts: ShownOffer | None
    self_tests: tuple[SelfTestLink, ...]
    about_html: Markup
    outline_html: Markup
    faq_html: Markup
    offer: bool
    checkout_cancelled: bool

    @classmethod
    def of(cls, context: dict[str, Any]) -> "PublicCourse":
        """From the course page's own context, as it would render the body."""
        course: Course = context["course"]
        outline: service.CourseOutline = context["outline"]
        preview = outline.first_preview
        offer: cohort_service.Offer | None = context["cohorts"]
        return cls(
            course=course_pages.CourseCard(
                course.slug,
                course.title,
                course.subtitle,
                course.language,
                course.price_cents,
                course.cover_image,
                course.cover_alt,
            ),
            outline=VisitorOutline(
                instructor=course_pages.Teacher(outline.instructor.name),
                lesson_count=outline.lesson_count,
                total_minutes=outline.total_minutes,
                first_preview=Preview(preview.slug) if preview is not None else None,
                enrolled=outline.enrolled,
                enrolment=None,
            ),
            is_draft=context["is_draft"],
            cohorts=ShownOffer.of(offer) if offer is not None else None,
            self_tests=tuple(context["self_tests"]),
            about_html=context["about_html"],
            outline_html=context["outline_html"],
            faq_html=context["faq_html"],
            offer=context["offer"],
            checkout_cancelled=context["checkout_cancelled"],
        )


# The course page's body for visitors who are not signed in, by what it shows and the language
# (docs/performance.md#rendered-fragments): a few per course.
_public_bodies = Fragments(limit=128)


def public_body(shown: PublicCourse, locale: str) -> Markup:
    """catalog/course_body.html for a visitor who is not signed in, rendered once for `shown`."""

    def make() -> Markup:
        context = {field.name: getattr(shown, field.name) for field in fields(shown)}
        # As `kept` gives its parts: a form would write the slot the page's token goes into.
        context.update(locale=locale, user=None, progress=None, csrf_token=csrf.SLOT)
        return render_part("catalog/course_body.html", context, locale)

    return _public_bodies.get((shown, locale), make)


# The course page's parts about the course, by their values and the language
# (docs/performance.md#rendered-fragments).
_about_parts = Fragments(limit=1000)


def course_about(outline: service.CourseOutline, locale: str) -> dict[str, Markup]:
    """The course page's `about_html` (outcomes, description, teacher, testimonials) and
    `faq_html`, rendered once for what they say."""
    about = CourseAbout.of(outline)
    context = {"about": about, "markdown": render_markdown}

    def part(template: str) -> Markup:
        return _about_parts.get(
            (template, about, locale), lambda: render_part(template, context, locale)
        )

    return {
        "about_html": part("catalog/course_about.html"),
        "faq_html": part("catalog/course_faq.html"),
    }


# A course's list of lessons as a visitor who has not enrolled sees it, by the course's content
# version and the values of its row the list shows, the lessons she may open (free previews,
# or all for its instructor) and the language (docs/performance.md#rendered-fragments).
_lesson_lists = Fragments(limit=1000)


def lesson_list(
    outline: service.CourseOutline, open_lessons: set[int | None], locale: str
) -> Markup:
    """The course page's "Course content" for a visitor without progress in the course."""
    course = outline.course
    key = (
        *version_of(course),
        course.slug,
        course.language,
        course.schedule,
        course.in_cohorts,
        frozenset(open_lessons),
        locale,
    )
    context = {"outline": outline, "course": course, "open_lessons": open_lessons, "progress": None}
    return _lesson_lists.get(key, lambda: render_part("catalog/outline.html", context, locale))


@router.post("/courses/{slug}/enrol")
def enrol(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str
) -> RedirectResponse:
    """One click into a free course; straight on to its first lesson."""
    outline = service.outline(session, slug=slug, viewer=user, now=now)
    enrolment = enrolment_service.enrol_free(
        session, user=user, course=outline.course, settings=settings_of(request)
    )
    cohort_seats.join_free(session, enrolment=enrolment, course=outline.course, now=now)
    first = outline.lessons[0] if outline.lessons else None
    target = lesson_url(slug, first) if first else f"/courses/{slug}"
    return RedirectResponse(target, status_code=303)


@dataclass(frozen=True)
class LessonContent:
    """A lesson's own content and what leads to and from it, rendered: the same for every
    learner who opens it."""

    heading: Markup
    body: Markup
    minutes: str
    breadcrumb: Markup
    journal_card: Markup
    # The previous and next lesson, the next one open or (`pager_locked`) not yet open to her.
    pager: Markup
    pager_locked: Markup


# Rendered lesson content by course version, the course's address and title, lesson and
# language: the text and steps, the breadcrumb and the pager are rendered once and each request
# adds only her parts (progress, buttons, video position). The version changes with any edit of
# a module, lesson or step (api/catalog/content.py), so a stale entry is never used
# (docs/performance.md#rendered-fragments).
_lessons = Fragments(limit=1000)


def lesson_content(view: service.LessonView, locale: str) -> LessonContent:
    """The lesson's heading, text, steps and the way to and from it in `locale`, from the kept
    ones or rendered now."""
    course, lesson = view.outline.course, view.lesson
    # The course's slug and title are its own columns, not part of its content's version.
    key = (*version_of(course), course.slug, course.title, course.language, lesson.id, locale)
    return _lessons.get(key, lambda: _render_lesson(view, locale))


def _render_lesson(view: service.LessonView, locale: str) -> LessonContent:
    context = {
        "view": view,
        "course": view.outline.course,
        "lesson": view.lesson,
        "lang": view.outline.course.language,
        "body_html": render_markdown(view.lesson.body),
        "steps": [step_view(step) for step in view.steps],
    }
    token = current_locale.set(locale)
    try:
        minutes = ngettext(
            "about %(num)s minute", "about %(num)s minutes", view.lesson.estimated_minutes
        )
    finally:
        current_locale.reset(token)
    return LessonContent(
        heading=render_part("catalog/lesson_heading.html", context, locale),
        body=render_part("catalog/lesson_body.html", context, locale),
        minutes=minutes,
        breadcrumb=render_part("catalog/lesson_breadcrumb.html", context, locale),
        journal_card=render_part("catalog/lesson_journal_card.html", context, locale),
        pager=render_part("catalog/lesson_pager.html", context, locale),
        pager_locked=render_part(
            "catalog/lesson_pager.html", {**context, "next_locked": True}, locale
        ),
    )


def _next_opens_at(
    view: service.LessonView, progress: CourseProgress | None, open_lessons: set[int | None]
) -> datetime | None:
    """When the next lesson opens, if the drip schedule still holds it back for her."""
    if progress is None or view.next is None or view.next.id in open_lessons:
        return None
    return view.outline.opens_at(view.outline.module_of[view.next.id])


def _video_context(
    session: Session, view: service.LessonView, progress: CourseProgress | None
) -> dict[str, Any]:
    """The video, and for an uploaded (`file`) video its adaptive stream and, for her own,
    where to resume and where to save."""
    lesson = view.lesson
    embed = video.embed_for(
        lesson.video_provider, lesson.video_ref, lesson.video_title or lesson.title
    )
    tracked = embed is not None and embed.provider == VideoProvider.file and progress is not None
    uploaded = embed is not None and embed.provider == VideoProvider.file
    return {
        "embed": embed,
        "stream": streams.view_of(session, name=embed.ref) if embed and uploaded else None,
        "resume_seconds": progress.position(lesson) if tracked and progress else None,
        "position_url": (
            f"/api/v1{lesson_url(view.outline.course.slug, lesson)}/position" if tracked else None
        ),
    }


@page("/courses/{slug}/lessons/{lesson_slug}")
async def show_lesson(request: Request) -> HTMLResponse:
    """One lesson: video, explanation and exercises, and for an enrolled learner her progress
    and the complete button; a friendly lock when it is not open."""
    # The busiest page: its session, finding the visitor and building the page run on the
    # event loop, with no hand-off to a thread; her visit is recorded afterwards in one
    # (docs/performance.md#pages-on-the-event-loop).
    now, path = await now_of(request), request.path_params
    return await read_on_loop(request, _lesson_response, now, path["slug"], path["lesson_slug"])


def _lesson_response(
    request: Request, session: Session, now: datetime, slug: str, lesson_slug: str
) -> HTMLResponse:
    # Her session, the course, her enrolment and progress and the lesson's questions come in
    # one statement (docs/performance.md#one-statement-per-page).
    found = lesson_page.read(
        session,
        settings_of(request),
        token=session_token(request),
        slug=slug,
        lesson_slug=lesson_slug,
    )
    if found is None:
        # No such course: the 404 page still shows who she is.
        visitor_of(request, session)
        raise NotFound(_("We could not find this course."))
    remember(request, found.visitor)
    user = found.visitor.signed_in
    try:
        page = lesson_page.open_lesson(session, found, lesson_slug=lesson_slug, now=now)
    except service.LessonLocked as locked:
        return locked_page(request, session, now, locked)
    view, progress = page.view, page.progress
    if progress is not None and user is not None and user.id is not None:
        progress_service.record_visit(
            session, progress=progress, user_id=user.id, lesson=view.lesson, now=now
        )
    open_lessons = _open_lessons(user, view.outline)
    record = progress_service.lesson_record(progress, view.lesson) if progress else None
    # A free preview ends with the offer for whoever has not got the course yet.
    offer = view.lesson.free_preview and buy_context(user, view.outline)
    context: dict[str, Any] = {
        "view": view,
        "course": view.outline.course,
        "lesson": view.lesson,
        "is_draft": view.outline.course.status == CourseStatus.draft,
        "content": lesson_content(view, locale_of(request)),
        "has_practice": any(step.kind in PRACTICE_KINDS for step in view.steps),
        "open_lessons": open_lessons,
        "progress": progress,
        "completed_text": completed_text,
        "completed_at": record.completed_at if record else None,
        "next_opens_at": _next_opens_at(view, progress, open_lessons),
        "practice_api": PRACTICE_API,
        "practice_log": PRACTICE_LOG_PAGE,
        "viewer_id": user.id if user else None,
        # The instructor or an admin previewing from the studio gets a way back to the editor.
        "editor_url": (
            f"/studio/courses/{slug}/lessons/{view.lesson.id}"
            if service.can_preview(user, view.outline.course)
            else None
        ),
        # Read from her account row, which the session lookup brought: no statement.
        "ask_consent": user is not None and not consent_service.has_health_consent(user),
        "offer": offer,
        **buy_form_context(request, session, view.outline.course, now, offered=offer),
        # Public questions and answers her instructor made of conversations (one statement).
        "lesson_questions": page.questions,
        **(ask_form_context(user) if progress is not None and user is not None else {}),
        **_video_context(session, view, progress),
    }
    return render(request, "catalog/lesson.html", context)
