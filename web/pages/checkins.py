"""Check-ins in a course: the form she fills in (every question on one page, without script),
and her measures over time as charts with a sentence about the change, for her progress page
and for her instructor's page about her."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api import i18n
from api.accounts.access import RequireUser
from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.markdown import render_markdown
from api.clock import Now, local_day
from api.consent import service as consent_service
from api.consent import texts
from api.consent.service import ConsentRequired, ConsentTextChanged
from api.db import SessionDep
from api.errors import AppError, FormError, NotFound
from api.i18n import gettext as _
from api.i18n import ngettext
from api.kit.ids import id_of
from api.progress import service as progress_service
from api.questionnaires import checkins
from api.questionnaires.checkins import DueCheckIn
from api.questionnaires.definition import (
    Better,
    Definition,
    MultipleItem,
    ScaleItem,
    SingleItem,
    WarningItem,
    format_score,
)
from api.questionnaires.models import Questionnaire
from api.questionnaires.outcomes import Change, Measure, Series
from api.questionnaires.service import definition_of
from web.charts import Frame, dots, line_path
from web.forms import Form, Posted, Typed, invalid, posted
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

TODAY_SAVED = "/today?notice=check-in-saved"


# --- her measures as charts -------------------------------------------------------------------

# The drawing area in SVG units, about one CSS pixel each in a card on a phone 390 px wide.
CHART_WIDTH = 300
CHART_HEIGHT = 180
PLOT_TOP = 16
PLOT_BOTTOM = 136
PLOT_LEFT = 30  # room for the scale's numbers
DAY_Y = PLOT_BOTTOM + 30


@dataclass(frozen=True)
class DotView:
    """One measurement of a measure, placed, with what it says."""

    x: float
    y: float
    value: str
    day: str  # short, under the chart: "3 dec."
    long_day: str  # in the table: "3 december 2026"
    moment: datetime


@dataclass(frozen=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True)
class MeasureChart:
    """One measure over time, ready to draw, with the change in words."""

    key: str
    title: str
    change: str  # "Your pain went from 7 to 4."
    meaning: str  # at least the meaningful change or not, and which way is better
    dots: list[DotView]
    path: str
    grid: list[GridLine]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = PLOT_LEFT
    day_y: int = DAY_Y

    @property
    def summary(self) -> str:
        return f"{self.change} {self.meaning}".strip()


@dataclass(frozen=True)
class SeriesView:
    """One questionnaire's measures, the total first."""

    series: Series
    charts: list[MeasureChart]

    @property
    def title(self) -> str:
        return self.series.questionnaire.title

    @property
    def language(self) -> str:
        return self.series.questionnaire.language

    @property
    def count(self) -> int:
        return len(self.series.measurements)


def _lowered(title: str) -> str:
    """A title inside a sentence: "Pijn" → "pijn", but "ODI" stays."""
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]


def _change_text(measure: Measure, questionnaire_title: str, *, own: bool) -> str:
    first, latest = format_score(measure.first.value), format_score(measure.latest.value)
    single = len(measure.points) == 1
    if measure.is_total:
        title = questionnaire_title
        if single:
            return _("First score on %(title)s: %(value)s.", title=title, value=first)
        if own:
            return _(
                "Your score on %(title)s went from %(first)s to %(latest)s.",
                title=title, first=first, latest=latest,
            )  # fmt: skip
        return _(
            "Score on %(title)s: from %(first)s to %(latest)s.",
            title=title, first=first, latest=latest,
        )  # fmt: skip
    if single:
        return _("First score for %(measure)s: %(value)s.", measure=measure.title, value=first)
    if own:
        return _(
            "Your %(measure)s went from %(first)s to %(latest)s.",
            measure=_lowered(measure.title), first=first, latest=latest,
        )  # fmt: skip
    return _(
        "%(measure)s: from %(first)s to %(latest)s.",
        measure=measure.title, first=first, latest=latest,
    )  # fmt: skip


def _better(definition: Definition) -> str:
    if definition.better == Better.lower_is_better:
        return _("Lower is better here.")
    return _("Higher is better here.")


def _points(value: Decimal) -> str:
    return ngettext(
        "%(points)s point", "%(points)s points", 1 if value == 1 else 2,
        points=format_score(value),
    )  # fmt: skip


def _meaning(series: Series, measure: Measure) -> str:
    """For the total: whether the change reaches the meaningful change, and which way is better
    (no promise either way); for a sub-score only which way is better."""
    definition = series.definition
    better = _better(definition)
    if not measure.is_total or len(measure.points) < 2:
        return better
    needed = _points(definition.meaningful_change)
    moved = series.change
    if moved == Change.improved:
        text = _(
            "That is at least %(needed)s, the change counted as meaningful, in the better "
            "direction.",
            needed=needed,
        )
    elif moved == Change.worse:
        text = _(
            "That is at least %(needed)s, the change counted as meaningful, in the less good "
            "direction.",
            needed=needed,
        )
    else:
        text = _("That is less than %(needed)s, the change counted as meaningful.", needed=needed)
    return f"{text} {better}"


def _grid(frame: Frame, low: Decimal, high: Decimal) -> list[GridLine]:
    middle = (low + high) / 2
    values = [high, middle, low] if middle == middle.to_integral_value() else [high, low]
    return [GridLine(round(frame.y(float(v)), 1), format_score(v)) for v in values]


def measure_chart(series: Series, measure: Measure, *, own: bool) -> MeasureChart:
    """A line through her values of one measure, on the measure's whole possible range."""
    low, high = measure.low, measure.high
    if high <= low:
        high = low + 1
    frame = Frame(CHART_WIDTH, PLOT_TOP, PLOT_BOTTOM, high=float(high), low=float(low))
    placed = dots(frame, [float(point.value) for point in measure.points], left=PLOT_LEFT)
    views = [
        DotView(
            dot.x,
            dot.y,
            format_score(point.value),
            i18n.format_day_as(local_day(point.taken_at), "d MMM"),
            i18n.format_day(point.taken_at),
            point.taken_at,
        )
        for dot, point in zip(placed, measure.points, strict=True)
    ]
    return MeasureChart(
        key=measure.key,
        # The card is headed by the questionnaire's title already.
        title=_("Total score") if measure.is_total else measure.title,
        change=_change_text(measure, series.questionnaire.title, own=own),
        meaning=_meaning(series, measure),
        dots=views,
        path=line_path(placed),
        grid=_grid(frame, low, high),
    )


def series_views(found: Sequence[Series], *, own: bool) -> list[SeriesView]:
    """Each questionnaire's charts; `own` words them for her ("Your pain ..."), otherwise for
    her instructor."""
    return [
        SeriesView(series, [measure_chart(series, m, own=own) for m in series.measures])
        for series in found
    ]


# --- the check-in form ------------------------------------------------------------------------


class CheckInForm(Form):
    """The form's own inputs; the answers are read by the questionnaire (scoring.read_answers)."""

    agree: str = ""
    version: str = ""


CheckInPost = Annotated[Posted[CheckInForm], posted(CheckInForm)]


async def _raw_answers(request: Request) -> dict[str, list[str]]:
    """Every input of the posted form with all its values (the CSRF check parsed it already)."""
    data = await request.form()
    return {
        name: [value for value in data.getlist(name) if isinstance(value, str)] for name in data
    }


RawAnswers = Annotated[dict[str, list[str]], Depends(_raw_answers)]


def as_raw(typed: dict[str, list[str]], definition: Definition) -> dict[str, Any]:
    """The posted values as read_answers takes them: a list for several choices, else one."""
    raw: dict[str, Any] = {}
    for item in definition.items:
        values = typed.get(item.key, [])
        raw[item.key] = values if isinstance(item, MultipleItem) else (values[0] if values else "")
    return raw


@dataclass(frozen=True)
class ItemView:
    """A question as the form shows it, with what she chose and its message."""

    item: Any
    kind: str
    chosen: list[str]
    error: str | None
    options: list[tuple[str, str]]  # (value, label)


def item_views(
    definition: Definition, typed: dict[str, list[str]], errors: dict[str, str]
) -> list[ItemView]:
    views = []
    for item in definition.items:
        if isinstance(item, ScaleItem):
            options = [(str(n), str(n)) for n in range(11)]
        elif isinstance(item, SingleItem | MultipleItem):
            options = [(str(n), option.label) for n, option in enumerate(item.options)]
        elif isinstance(item, WarningItem):
            options = [("yes", _("Yes")), ("no", _("No"))]
        else:
            options = []
        views.append(
            ItemView(item, item.kind, typed.get(item.key, []), errors.get(item.key), options)
        )
    return views


def _in_course(
    session: Session, user: User, slug: str, key: str, now: datetime
) -> DueCheckIn[Questionnaire]:
    """The check-in the address names, when its moment has come for her; NotFound otherwise."""
    outline = catalog.outline(session, slug=slug, viewer=user, now=now)
    if not outline.enrolled:
        raise NotFound(_("This check-in is not open for you."))
    progress = progress_service.read(session, outline=outline, user_id=id_of(user))
    item = checkins.find(session, user=user, progress=progress, key=key, now=now)
    if item is None:
        raise NotFound(_("This check-in is not open for you."))
    return item


def _form_page(
    request: Request,
    user: User,
    item: DueCheckIn[Questionnaire],
    *,
    typed: dict[str, list[str]] | None = None,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    definition = definition_of(item.questionnaire)
    errors = errors or {}
    context: dict[str, Any] = {
        "item": item,
        "questionnaire": item.questionnaire,
        "course": item.outline.course,
        "definition": definition,
        "intro_html": render_markdown(definition.intro) if definition.intro else "",
        "questions": item_views(definition, typed or {}, errors),
        "ask_consent": not consent_service.has_health_consent(user),
        "consent": texts.health_data_text(),
        "values": values or {},
        "errors": errors,
    }
    return render(request, "checkins/form.html", context)


def _done_page(request: Request, item: DueCheckIn[Questionnaire], warning: bool) -> HTMLResponse:
    context = {"item": item, "course": item.outline.course, "warning": warning}
    return render(request, "checkins/done.html", context)


@router.get("/courses/{slug}/check-ins/{key}", response_class=HTMLResponse)
def show_check_in(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str, key: str
) -> HTMLResponse:
    """Every question of the check-in on one page; once done, what she sent came to."""
    item = _in_course(session, user, slug, key, now)
    if item.done:
        stored = checkins.stored(session, user=user, item=item)
        return _done_page(request, item, warning=stored is not None and stored.warning)
    return _form_page(request, user, item)


@router.post("/courses/{slug}/check-ins/{key}", response_class=HTMLResponse)
def send_check_in(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    slug: str,
    key: str,
    form: CheckInPost,
    typed: RawAnswers,
) -> Response:
    """Store her answers once; with a warning sign, the advice to see a doctor first."""
    item = _in_course(session, user, slug, key, now)
    raw = as_raw(typed, definition_of(item.questionnaire))
    try:
        checkins.read(item, raw)  # answers first: her consent is recorded only with them
        data = form.valid()
        if data.agree == "yes" and not consent_service.has_health_consent(user):
            consent_service.give_health_consent(
                session, user=user, version=data.version, language=locale_of(request), now=now
            )
        submitted = checkins.submit(session, user=user, item=item, raw=raw, now=now)
    except (FormError, ConsentRequired, ConsentTextChanged) as exc:
        return invalid(exc, _form_page(request, user, item, typed=typed, **_shown(form, exc)))
    if submitted.warning:
        return RedirectResponse(item.url, status_code=303)
    return RedirectResponse(TODAY_SAVED, status_code=303)


def _shown(form: Posted[CheckInForm], exc: AppError) -> dict[str, Any]:
    """What the page shows again: her answers (passed apart) and the consent box as ticked."""
    if isinstance(exc, FormError):
        errors = dict(exc.fields)
    elif isinstance(exc, ConsentRequired):
        errors = {
            "agree": _("Tick the box to let Kern keep your check-in. Your answers are still here.")
        }
    else:
        errors = {"agree": exc.message}
    return {"values": form.values, "errors": errors}
