"""The learner's own pages: "Vandaag" (what to do today), her practice log with its week chart
and her measurements over time, and the forms that mark a lesson done or not done."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from api import i18n
from api.accounts.access import RequireUser, remember, required, session_token
from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog import steps
from api.catalog.content import version_of
from api.catalog.models import Lesson
from api.clock import Now, local_day, now_of, week_start
from api.consent import service as consent_service
from api.db import SessionDep, read_on_loop
from api.i18n import gettext as _
from api.i18n import ngettext
from api.kit.ids import id_of
from api.kit.keyset import Cursor
from api.progress import practice
from api.progress import service as progress_service
from api.progress import today as today_service
from api.progress.practice import DayTotal, PracticeEntry
from api.progress.today import PracticeItem
from api.questionnaires import outcomes
from api.reminders import service as reminders
from web.charts import Frame, columns, scale_top, week_period
from web.fragments import Fragments
from web.pages.catalog import (
    PRACTICE_API,
    PRACTICE_LOG_PAGE,
    StepView,
    completed_text,
    lesson_url,
    locked_page,
    step_view,
)
from web.pages.checkins import series_views
from web.pages.common import page, settings_of
from web.pages.conversations import ask_form_context, course_choices
from web.templating import locale_of, render, render_part, templates

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


# --- "Vandaag" ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeView:
    """A step to practise today, with the lesson it comes from."""

    item: PracticeItem
    view: StepView
    # The step as the list shows it before and after her own part (how often she did it today):
    # progress/practice_step.html.
    top: Markup
    end: Markup
    # How long the guided player takes for it (steps.played_seconds).
    played: int


# Each step's view, its rendered parts and how long it plays, by course version, step and
# language: the same for every learner, so "Vandaag" works them out once and adds only how often
# she did it today. The version changes with any edit of the course's content
# (api/catalog/content.py), so a stale entry is never used; the course's address and language,
# which are not content, are in the key as they are (docs/performance.md#rendered-fragments).
_Made = tuple[StepView, Markup, Markup, int]
_practice_steps = Fragments(limit=5000)


def practice_views(items: list[PracticeItem], locale: str) -> list[PracticeView]:
    """Today's steps with their views and rendered parts, kept or made now."""
    return [PracticeView(item, *_practice_step_kept(item, locale)) for item in items]


def _practice_step_kept(item: PracticeItem, locale: str) -> _Made:
    course = item.progress.outline.course
    key = (*version_of(course), course.slug, course.language, locale, item.step.id)
    return _practice_steps.get(key, lambda: _practice_step(item, locale))


def _practice_step(item: PracticeItem, locale: str) -> _Made:
    course = item.progress.outline.course
    # The template's macros, as attributes Jinja makes when it loads it.
    parts: Any = templates.env.get_template("progress/practice_step.html").module
    token = i18n.current_locale.set(locale)
    try:
        view = step_view(item.step)
        top = Markup(parts.practice_top(view, course.language))  # noqa: S704
        end = Markup(parts.practice_end(course, item.lesson))  # noqa: S704
    finally:
        i18n.current_locale.reset(token)
    return view, top, end, steps.played_seconds(item.step)


class DayMark(NamedTuple):
    """One day of this week on the "Vandaag" page: its name, and whether she practised. A named
    tuple, as it is part of the kept week's key (`week_parts`)."""

    day: date
    short: str
    long: str
    practised: bool
    is_today: bool
    is_future: bool


@dataclass(frozen=True)
class WeekParts:
    """Her week on "Vandaag", rendered: at a glance at the top, in full further down."""

    glance: Markup
    week: Markup


# Her week by its days, streak and language: the same for every learner with the same week, and
# a handful of weeks serve all her days (docs/performance.md#rendered-fragments).
_weeks = Fragments(limit=1024)


def week_parts(marks: list[DayMark], *, streak: int, locale: str) -> WeekParts:
    """Her week, rendered once for each week, streak and language and kept."""
    days = sum(1 for mark in marks if mark.practised)
    practised_today = any(mark.practised and mark.is_today for mark in marks)
    key = (tuple(marks), streak, locale)

    def make() -> WeekParts:
        context = {
            "week": marks,
            "streak": streak,
            "practised_today": practised_today,
            "days_this_week": days,
        }
        return WeekParts(
            glance=render_part("progress/week_glance.html", context, locale),
            week=render_part("progress/week.html", context, locale),
        )

    return _weeks.get(key, make)


def _greeting(user: User, now: datetime) -> str:
    """Good morning/afternoon/evening by the hour in Amsterdam, with her first name."""
    name = user.name.split()[0] if user.name.strip() else ""
    hour = now.astimezone(i18n.TIMEZONE).hour
    if 6 <= hour < 12:
        return _("Good morning, %(name)s", name=name)
    if 12 <= hour < 18:
        return _("Good afternoon, %(name)s", name=name)
    return _("Good evening, %(name)s", name=name)


def _day_marks(week: list[tuple[date, bool]], today: date) -> list[DayMark]:
    return [
        DayMark(
            day=day,
            short=i18n.format_day_as(day, "EEE"),
            long=i18n.format_day_as(day, "EEEE d MMMM"),
            practised=practised,
            is_today=day == today,
            is_future=day > today,
        )
        for day, practised in week
    ]


@page("/today")
async def show_today(request: Request) -> HTMLResponse:
    """Her home: the next lesson, today's practice, her streak and week, and her courses."""
    # Read and rendered on the event loop, as the lesson page is
    # (docs/performance.md#pages-on-the-event-loop).
    return await read_on_loop(request, _today_response, await now_of(request))


def _today_response(request: Request, session: Session, now: datetime) -> HTMLResponse:
    # Her session is read with the page's data (docs/performance.md#one-statement-per-page);
    # the same rules as RequireUser then admit her or send her to log in.
    visit = today_service.read_visit(
        session, settings_of(request), token=session_token(request), now=now
    )
    remember(request, visit.visitor)
    user = required(request, visit.visitor)
    today = today_service.of_visit(session, visit, user=user, now=now)
    practice_items = practice_views(today.practice, locale_of(request))
    context: dict[str, Any] = {
        "today": today,
        "greeting": _greeting(user, now),
        "practice": practice_items,
        "ask_courses": course_choices(item.progress.outline.course for item in today.courses),
        "routine_minutes": steps.routine_minutes_of([item.played for item in practice_items]),
        "week_parts": week_parts(
            _day_marks(today.week, today.day),
            streak=today.streak,
            locale=locale_of(request),
        ),
        "notice": request.query_params.get("notice"),
        "practice_api": PRACTICE_API,
        "practice_log": PRACTICE_LOG_PAGE,
        "viewer_id": user.id,
        "ask_consent": not consent_service.has_health_consent(user),
        "completed_text": completed_text,
        # Answers from her therapist she has not read yet.
        "answers": today.answers,
        # Once she follows a course: the offer to set a practice reminder.
        "offer_reminder": bool(today.courses) and today.offers_reminder,
        **ask_form_context(user),
    }
    return render(request, "progress/today.html", context)


@router.post("/today/reminder-offer/close")
def close_reminder_offer(session: SessionDep, user: RequireUser, now: Now) -> RedirectResponse:
    """ "No, thank you" to the reminder offer: Vandaag does not show it again."""
    reminders.close_reminder_offer(session, user_id=id_of(user), now=now)
    return RedirectResponse("/today", status_code=303)


@router.get("/today/routine", response_class=HTMLResponse)
def show_routine(
    request: Request, session: SessionDep, user: RequireUser, now: Now
) -> HTMLResponse:
    """Today's exercises one after another in the guided player, each after a count-in."""
    views = practice_views(today_service.routine(session, user=user, now=now), locale_of(request))
    context: dict[str, Any] = {
        "practice": views,
        "minutes": steps.routine_minutes_of([view.played for view in views]),
        "ready_seconds": steps.READY_SECONDS,
        "practice_api": PRACTICE_API,
        "practice_log": PRACTICE_LOG_PAGE,
        "viewer_id": user.id,
        "ask_consent": not consent_service.has_health_consent(user),
    }
    return render(request, "progress/routine.html", context)


# --- the practice log and its week chart -----------------------------------------------------

# The chart's drawing area in SVG units: one unit is about one CSS pixel in its card on a phone
# 390 px wide, so the texts keep their size there and grow a little on larger screens.
CHART_WIDTH = 300
CHART_HEIGHT = 210
PLOT_TOP = 28  # room for the value over the tallest bar
BASELINE = 172  # the bars stand on this line; the day names go under it
BAR_WIDTH = 26
MIN_SCALE_MINUTES = 10  # so a short day does not fill the chart as if it were a long one


@dataclass(frozen=True)
class Bar:
    """One day's bar, placed: its box, where its texts go, and what they say."""

    day: date
    label: str
    name: str
    minutes: int
    count: int
    x: float
    y: float
    height: float
    center: float
    value_y: float
    is_today: bool
    is_future: bool


@dataclass(frozen=True)
class WeekChart:
    """Minutes practised on each day of one week, as bars ready to draw."""

    monday: date
    bars: list[Bar]
    summary: str
    total_minutes: int
    days_practised: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: int = BASELINE
    bar_width: int = BAR_WIDTH
    label_y: int = BASELINE + 26

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def period(self) -> str:
        """E.g. "16 – 22 november 2026", or "30 november – 6 december 2026"."""
        return week_period(self.monday)


def _minutes(seconds: int) -> int:
    """Whole minutes, rounded up: a practice of 40 seconds still shows as a bar."""
    return -(-seconds // 60)


def _summary(monday: date, total: int, days: int) -> str:
    sunday = monday + timedelta(days=6)
    period = _(
        "Minutes of practice per day from %(start)s to %(end)s.",
        start=i18n.format_day(monday),
        end=i18n.format_day(sunday),
    )
    minutes = ngettext("In total %(num)s minute", "In total %(num)s minutes", total)
    on_days = ngettext("on %(num)s day.", "on %(num)s days.", days)
    return f"{period} {minutes}, {on_days}"


def week_chart(totals: list[DayTotal], today: date) -> WeekChart:
    """Place a bar for each day of the week (Monday first) with its minutes and day name."""
    minutes = [_minutes(total.seconds) for total in totals]
    top = scale_top(max(minutes, default=0), minimum=MIN_SCALE_MINUTES, step=5)
    frame = Frame(CHART_WIDTH, PLOT_TOP, BASELINE, high=top)
    placed = columns(frame, minutes, bar_width=BAR_WIDTH)
    bars = [
        Bar(
            day=total.day,
            label=i18n.format_day_as(total.day, "EEE"),
            name=i18n.format_day_as(total.day, "EEEE d MMMM"),
            minutes=value,
            count=total.count,
            x=column.x,
            y=column.y,
            height=column.height,
            center=column.center,
            value_y=column.value_y,
            is_today=total.day == today,
            is_future=total.day > today,
        )
        for total, value, column in zip(totals, minutes, placed, strict=True)
    ]
    days = sum(1 for value in minutes if value)
    return WeekChart(
        monday=totals[0].day,
        bars=bars,
        summary=_summary(totals[0].day, sum(minutes), days),
        total_minutes=sum(minutes),
        days_practised=days,
    )


@dataclass(frozen=True)
class EntryView:
    """A logged practice as the list shows it."""

    entry: PracticeEntry
    duration: str
    done: str


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    return ngettext("%(num)s minute", "%(num)s minutes", round(seconds / 60))


def _done(entry: PracticeEntry) -> str:
    """What she did, in words: sets and repetitions, or breaths."""
    log = entry.log
    if log.step_kind == "breathing":
        return ngettext("%(num)s breath", "%(num)s breaths", log.reps_done)
    reps = ngettext("%(num)s repetition", "%(num)s repetitions", log.reps_done)
    if not log.sets_done:
        return reps
    return f"{ngettext('%(num)s set', '%(num)s sets', log.sets_done)}, {reps}"


def _entry_view(entry: PracticeEntry) -> EntryView:
    return EntryView(entry, _duration(entry.log.duration_seconds), _done(entry))


def _chosen_week(week: str, today: date) -> date:
    """The Monday of the asked week; this week for a missing, unreadable or future day."""
    this_monday = week_start(today)
    try:
        asked = week_start(date.fromisoformat(week))
    except ValueError:
        return this_monday
    return min(asked, this_monday)


def _practice_url(monday: date, cursor: Cursor | None = None) -> str:
    query = {"week": monday.isoformat()}
    if cursor is not None:
        query["cursor"] = str(cursor)
    return "/practice?" + urlencode(query)


@router.get("/practice", response_class=HTMLResponse)
def show_practice(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    week: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """Her practice log: a week chart, her measurements over time (check-ins and the self-test
    results she kept), and every logged practice, newest first."""
    today = local_day(now)
    monday = _chosen_week(week, today)
    user_id = id_of(user)
    chart = week_chart(practice.week(session, user_id=user_id, monday=monday), today)
    # A cursor that cannot be read (an old or edited link) shows the newest practices.
    since = Cursor.parse(cursor)
    found = practice.entries(session, user_id=user_id, cursor=since, limit=PAGE_SIZE + 1)
    shown = found[:PAGE_SIZE]
    older = practice.next_cursor(shown[-1]) if len(found) > PAGE_SIZE else None
    this_monday = week_start(today)
    context = {
        "chart": chart,
        "entries": [_entry_view(entry) for entry in shown],
        "previous_week_url": _practice_url(monday - timedelta(days=7), since),
        "next_week_url": (
            _practice_url(monday + timedelta(days=7), since) if monday < this_monday else None
        ),
        "this_week": monday == this_monday,
        "older_url": _practice_url(monday, older) if older else None,
        "newest_url": _practice_url(monday) if since else None,
        "measures": series_views(outcomes.series(session, user_id=user_id), own=True),
    }
    return render(request, "progress/practice.html", context)


# --- marking a lesson done --------------------------------------------------------------------

Mark = Callable[..., Any]


def _mark(
    request: Request,
    session: Session,
    user: User,
    now: datetime,
    where: tuple[str, str],
    action: Mark,
) -> Response:
    """Apply `action` to a lesson she may open and go back to it; the lock page otherwise."""
    slug, lesson_slug = where
    try:
        outline, index = catalog.open_lesson(
            session, slug=slug, lesson_slug=lesson_slug, viewer=user, now=now
        )
    except catalog.LessonLocked as locked:
        return locked_page(request, session, now, locked)
    lesson: Lesson = outline.lessons[index]
    action(session, user_id=user.id, lesson=lesson, now=now)
    return RedirectResponse(f"{lesson_url(slug, lesson)}#progress", status_code=303)


@router.post("/courses/{slug}/lessons/{lesson_slug}/complete")
def complete_lesson(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str, lesson_slug: str
) -> Response:
    """Mark the lesson done; back on the lesson, the next one is the obvious next step."""
    return _mark(request, session, user, now, (slug, lesson_slug), progress_service.complete)


@router.post("/courses/{slug}/lessons/{lesson_slug}/incomplete")
def undo_lesson(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str, lesson_slug: str
) -> Response:
    """Mark the lesson not done (again)."""
    return _mark(request, session, user, now, (slug, lesson_slug), progress_service.undo)
