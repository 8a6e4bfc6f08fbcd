"""How a course is doing, for its instructor: enrolments and revenue per week, how far learners
get in the lessons, how regularly they practise, as server-drawn charts with their numbers, and
how many improved, stayed about the same or got worse by its check-ins."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api import i18n
from api.accounts.access import RequireInstructor
from api.catalog.models import Module
from api.clock import Now
from api.db import SessionDep
from api.i18n import gettext as _
from api.i18n import ngettext
from api.questionnaires import outcomes as outcomes_service
from api.questionnaires.definition import Better
from api.questionnaires.definition import format_score as score_text
from api.studio import insight as insight_service
from api.studio.access import owned_course
from web.charts import Column, Frame, columns, scale_top, week_period
from web.templating import render

router = APIRouter(include_in_schema=False)

# The charts' drawing area in SVG units. Twelve columns of 30 units fit a phone 390 px wide with
# texts at their set size; on a laptop the chart grows to the width of its column.
CHART_WIDTH = 360
CHART_HEIGHT = 200
PLOT_TOP = 28
BASELINE = 164
LABEL_Y = BASELINE + 24


@dataclass(frozen=True)
class Bar:
    """One week's column with its label and the number written over it (if any)."""

    column: Column
    label: str
    value_text: str
    current: bool


@dataclass(frozen=True)
class ColumnChart:
    """A column chart ready to draw: columns, zero line, the top gridline and its label (for a
    chart whose columns carry no numbers)."""

    bars: list[Bar]
    summary: str
    zero: float
    top_label: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    top: int = PLOT_TOP
    label_y: int = LABEL_Y


@dataclass(frozen=True)
class ReachRow:
    """A lesson's completions as a share of the learners with access, and its bar's length."""

    item: insight_service.LessonReach
    share: int
    width: float


@dataclass(frozen=True)
class WeekRow:
    """A row of a chart's table: the week in words and its numbers."""

    week: str
    values: list[str]


def _week_number(monday: date) -> str:
    return str(monday.isocalendar().week)


def week_name(monday: date, today: date) -> str:
    """E.g. "week 47 (16 – 22 november 2026)", marked when the week is still going on."""
    text = _("week %(number)s (%(days)s)", number=_week_number(monday), days=week_period(monday))
    if not monday <= today < monday + timedelta(days=7):
        return text
    so_far = _("(so far)")  # outside the f-string, so that `make messages` finds it
    return f"{text} {so_far}"


def column_chart(
    mondays: Sequence[date],
    values: Sequence[float],
    *,
    today: date,
    top: float,
    texts: Sequence[str],
    summary: str,
    top_label: str = "",
) -> ColumnChart:
    """Columns for one value per week, labelled with the week number, this week marked."""
    frame = Frame(CHART_WIDTH, PLOT_TOP, BASELINE, high=top, low=min(0, min(values, default=0)))
    placed = columns(frame, values, bar_width=CHART_WIDTH / len(values) * 0.6)
    this_week = mondays[-1] <= today
    bars = [
        Bar(column, _week_number(monday), text, this_week and index == len(mondays) - 1)
        for index, (monday, column, text) in enumerate(zip(mondays, placed, texts, strict=True))
    ]
    return ColumnChart(bars, summary, round(frame.zero, 1), top_label)


def _enrolment_chart(insight: insight_service.Insight) -> ColumnChart:
    sales = insight.sales
    counts = [week.enrolments for week in sales]
    total = sum(counts)
    summary = ngettext(
        "New enrolments per week over the last %(weeks)s weeks: %(num)s in total.",
        "New enrolments per week over the last %(weeks)s weeks: %(num)s in total.",
        total,
        weeks=len(sales),
    )
    top = scale_top(max(counts, default=0), minimum=5)
    texts = [str(count) if count else "" for count in counts]
    return column_chart(
        [week.monday for week in sales], counts, today=insight.today, top=top, texts=texts,
        summary=summary,
    )  # fmt: skip


def _revenue_chart(insight: insight_service.Insight) -> ColumnChart:
    sales = insight.sales
    euros = [week.revenue_cents / 100 for week in sales]
    total = sum(week.revenue_cents for week in sales)
    summary = _(
        "Revenue per week over the last %(weeks)s weeks, payments minus refunds: "
        "%(total)s in total.",
        weeks=len(sales),
        total=i18n.format_price(total),
    )
    top = scale_top(max(euros, default=0), minimum=10)
    # The amounts are too wide to write over twelve columns; the gridline and table give them.
    return column_chart(
        [week.monday for week in sales], euros, today=insight.today, top=top,
        texts=[""] * len(sales), summary=summary, top_label=i18n.format_price(top * 100),
    )  # fmt: skip


def _adherence_chart(insight: insight_service.Insight) -> ColumnChart:
    weeks = insight.practice
    summary = _(
        "Share of learners who practised on at least %(days)s days, per week over the last "
        "%(weeks)s weeks.",
        days=insight_service.ADHERENT_DAYS,
        weeks=len(weeks),
    )
    return column_chart(
        [week.monday for week in weeks], [week.share for week in weeks], today=insight.today,
        top=100, texts=[f"{week.share}%" if week.learners else "" for week in weeks],
        summary=summary,
    )  # fmt: skip


def _practice_days_chart(insight: insight_service.Insight) -> ColumnChart:
    weeks = insight.practice
    summary = _(
        "Average number of days a learner practised, per week over the last %(weeks)s weeks.",
        weeks=len(weeks),
    )
    return column_chart(
        [week.monday for week in weeks], [week.average_days for week in weeks],
        today=insight.today, top=7,
        texts=[_average(week.average_days) if week.learners else "" for week in weeks],
        summary=summary,
    )  # fmt: skip


def _sales_rows(insight: insight_service.Insight) -> list[WeekRow]:
    return [
        WeekRow(
            week_name(week.monday, insight.today),
            [
                str(week.enrolments),
                i18n.format_price(week.paid_cents),
                i18n.format_price(week.reversed_cents),
                i18n.format_price(week.revenue_cents),
            ],
        )
        for week in reversed(insight.sales)
    ]


def _reach(insight: insight_service.Insight) -> list[tuple[Module, list[ReachRow]]]:
    """The lessons grouped by module, in course order, each with its share of the learners."""
    total = insight.active_learners
    rows = []
    for item in insight.lessons:
        share = 100 * item.completed / total if total else 0.0
        # Like the columns, a lesson that anyone completed keeps a visible bar.
        rows.append(ReachRow(item, round(share), round(max(share, 1.0), 1) if share else 0.0))
    return [
        (module, list(group)) for module, group in groupby(rows, key=lambda row: row.item.module)
    ]


def _average(days: float) -> str:
    return format_decimal(days, "0.0", locale=i18n.current_locale.get())


def _practice_rows(insight: insight_service.Insight) -> list[WeekRow]:
    return [
        WeekRow(
            week_name(week.monday, insight.today),
            [
                str(week.learners),
                f"{week.adherent} ({week.share}%)",
                _average(week.average_days),
            ],
        )
        for week in reversed(insight.practice)
    ]


def outcome_rule(outcome: outcomes_service.Outcome) -> str:
    """What counts as improved for one questionnaire, in words."""
    definition = outcome.definition
    change = score_text(definition.meaningful_change)
    if definition.better == Better.lower_is_better:
        return _(
            "Improved: at least %(change)s lower. Worse: at least %(change)s higher.",
            change=change,
        )
    return _(
        "Improved: at least %(change)s higher. Worse: at least %(change)s lower.", change=change
    )


@router.get("/studio/courses/{slug}/insight", response_class=HTMLResponse)
def show_insight(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now, slug: str
) -> HTMLResponse:
    """The course's enrolments, revenue, completion per lesson and practice per week."""
    course = owned_course(session, viewer=user, slug=slug)
    insight = insight_service.read(session, course=course, now=now)
    outcomes = outcomes_service.of_course(session, course=course)
    context = {
        "course": course,
        "insight": insight,
        "enrolment_chart": _enrolment_chart(insight),
        "revenue_chart": _revenue_chart(insight),
        "adherence_chart": _adherence_chart(insight),
        "practice_days_chart": _practice_days_chart(insight),
        "sales_rows": _sales_rows(insight),
        "practice_rows": _practice_rows(insight),
        "reach": _reach(insight),
        "latest_average": _average(insight.practice[-1].average_days),
        "adherent_days": insight_service.ADHERENT_DAYS,
        "outcomes": outcomes,
        "outcome_rules": [outcome_rule(outcome) for outcome in outcomes],
    }
    return render(request, "studio/insight.html", context)
