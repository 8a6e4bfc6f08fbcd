"""A course's questionnaires in the studio: a new one, its page (settings, questions, sub-scores,
bands, its problems, publishing, deleting, the self-test's counts) and the course's check-ins."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.catalog.models import Course
from api.clock import Now
from api.db import SessionDep
from api.errors import Conflict, FormError
from api.i18n import gettext as _
from api.kit.ids import PathId
from api.questionnaires.definition import (
    MAX_ITEMS,
    Definition,
    MultipleItem,
    ScaleItem,
    SingleItem,
    format_score,
)
from api.questionnaires.models import Questionnaire
from api.questionnaires.service import definition_of
from api.studio import checkins as checkins_service
from api.studio import questionnaire_parts as parts
from api.studio import questionnaires as service
from api.studio.access import owned_course
from web.forms import Checkbox, Form, Posted, Shown, Typed, invalid, posted
from web.pages.common import ConfirmForm, MoveForm
from web.pages.studio.courses import course_page
from web.templating import render

router = APIRouter(include_in_schema=False)

# A part's position in its list (a questionnaire has at most MAX_ITEMS questions).
Index = Annotated[int, Path(ge=0, le=MAX_ITEMS)]
NOTICES = frozenset(
    {
        "created",
        "saved",
        "unchanged",
        "published",
        "draft",
        "item-added",
        "item-saved",
        "item-moved",
        "item-deleted",
        "subscore-added",
        "subscore-saved",
        "subscore-deleted",
        "band-added",
        "band-saved",
        "band-deleted",
    }
)
EMPTY_OPTION_ROWS = 2
BUTTONS = frozenset({"status", "move", "delete"})


class NewForm(service.NewInput, Form):
    pass


class SettingsForm(service.SettingsInput, Form):
    self_test: Checkbox = False


class NewItemForm(parts.NewItemInput, Form):
    pass


class ItemForm(parts.ItemInput, Form):
    pass


class SubscoreForm(parts.SubscoreInput, Form):
    pass


class BandForm(parts.BandInput, Form):
    pass


class ActionForm(parts.ActionInput, Form):
    pass


class StatusForm(Form):
    status: str = ""
    version: str = ""


class CheckInForm(checkins_service.CheckInInput, Form):
    pass


# --- the page -------------------------------------------------------------------------------


def _url(course: Course, questionnaire: Questionnaire) -> str:
    return f"/studio/courses/{course.slug}/questionnaires/{questionnaire.id}"


def _done(
    course: Course, questionnaire: Questionnaire, notice: str, anchor: str = ""
) -> RedirectResponse:
    url = f"{_url(course, questionnaire)}?notice={notice}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(url, status_code=303)


def _item_values(definition: Definition, index: int) -> dict[str, Typed]:
    item = definition.items[index]
    values: dict[str, Typed] = {"key": item.key, "text": item.text}
    if isinstance(item, ScaleItem):
        values |= {"min_label": item.min_label, "max_label": item.max_label}
    if isinstance(item, SingleItem | MultipleItem):
        values["option_label"] = [option.label for option in item.options]
        values["option_points"] = [str(option.points) for option in item.options]
    return values


def _form_values(
    questionnaire: Questionnaire, definition: Definition
) -> dict[str, dict[str, Typed]]:
    """Every form of the page filled in as saved, by the form's name."""
    forms: dict[str, dict[str, Typed]] = {"settings": dict(service.settings_values(questionnaire))}
    for index in range(len(definition.items)):
        forms[f"item-{index}"] = _item_values(definition, index)
    for index, subscore in enumerate(definition.subscores):
        forms[f"subscore-{index}"] = {
            "key": subscore.key,
            "title": subscore.title,
            "items": list(subscore.items),
        }
    for index, band in enumerate(definition.bands):
        forms[f"band-{index}"] = {
            "min": service.number_input(band.min),
            "max": service.number_input(band.max),
            "title": band.title,
            "text": band.text,
            "course": band.course or "",
        }
    low, high = definition.score_range()
    start = definition.bands[-1].max + definition.step if definition.bands else low
    forms["new-band"] = {
        "min": service.number_input(min(start, high)),
        "max": service.number_input(high),
        "title": "",
        "text": "",
        "course": "",
    }
    forms["new-item"] = {"kind": "scale", "text": ""}
    forms["new-subscore"] = {"key": "", "title": "", "items": []}
    return forms


def _page(
    request: Request,
    session: Session,
    course: Course,
    questionnaire: Questionnaire,
    now: datetime,
    *,
    refused: tuple[str, Shown] | None = None,
    problem: str | None = None,
    open_part: str = "",
) -> HTMLResponse:
    """The questionnaire's page; `refused` is one form's typed values and errors, by its name."""
    definition = definition_of(questionnaire)
    courses = service.her_courses(session, course=course)
    used = service.usage(session, questionnaire=questionnaire)
    forms = _form_values(questionnaire, definition)
    errors: dict[str, dict[str, str]] = {}
    if refused is not None:
        name, shown = refused
        forms[name] = {**forms.get(name, {}), **shown["values"]}
        errors[name] = shown["errors"]
        open_part = name
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "course": course,
        "questionnaire": questionnaire,
        "definition": definition,
        "score_range": definition.score_range(),
        "problems": [
            (found, service.anchor(found.where))
            for found in service.problems_of(definition, courses)
        ],
        "courses": courses,
        "usage": used,
        "blocker": service.deletion_blocker(used),
        "tally": service.tally(session, questionnaire=questionnaire, now=now)
        if questionnaire.self_test
        else None,
        "forms": forms,
        "errors": errors,
        "open_part": open_part or request.query_params.get("open", ""),
        "option_rows": EMPTY_OPTION_ROWS,
        "format_score": format_score,
        "notice": notice if notice in NOTICES else None,
        "problem": problem,
    }
    return render(request, "studio/questionnaire.html", context)


def _own(
    session: Session, user: User, slug: str, questionnaire_id: int
) -> tuple[Course, Questionnaire]:
    """The course and its questionnaire, when she teaches the course; 403 or 404."""
    course = owned_course(session, viewer=user, slug=slug)
    questionnaire = service.questionnaire_of(
        session, course=course, questionnaire_id=questionnaire_id
    )
    return course, questionnaire


def _attempt(
    request: Request,
    session: Session,
    course: Course,
    questionnaire: Questionnaire,
    now: datetime,
    *,
    name: str,
    form: Posted[Any],
    action: Callable[[Any], None],
) -> Response | None:
    """Run `action` with the valid form; the page again when it is refused (None: done)."""
    try:
        action(form.valid())
    except service.QuestionnaireChanged as exc:
        page = _page(request, session, course, questionnaire, now, problem=exc.message)
        return invalid(exc, page)
    except FormError as exc:
        # A button's form (publish, move, delete) or the questionnaire as a whole has no
        # inputs to show a message at: it goes at the top of the page.
        if name in BUTTONS or "" in exc.fields:
            problem = next(iter(exc.fields.values()))
            return invalid(
                exc, _page(request, session, course, questionnaire, now, problem=problem)
            )
        page = _page(request, session, course, questionnaire, now, refused=(name, form.shown(exc)))
        return invalid(exc, page)
    except Conflict as exc:
        # Kept as typed: she may take the questionnaire back to draft and save this again.
        shown: Shown = {"values": form.values, "errors": {}}
        page = _page(
            request, session, course, questionnaire, now, refused=(name, shown), problem=exc.message
        )
        return invalid(exc, page)
    return None


@router.post("/studio/courses/{slug}/questionnaires", response_class=HTMLResponse)
def create_questionnaire(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[NewForm], posted(NewForm)],
) -> Response:
    """A new draft questionnaire of the course; then its page."""
    course = owned_course(session, viewer=user, slug=slug)
    try:
        questionnaire = service.create(session, course=course, data=form.valid())
    except FormError as exc:
        shown = form.shown(exc, prefix="new-questionnaire-")
        return invalid(exc, course_page(request, session, course, **shown))
    return _done(course, questionnaire, "created", "settings")


@router.get("/studio/courses/{slug}/questionnaires/{questionnaire_id}", response_class=HTMLResponse)
def show_questionnaire(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
) -> HTMLResponse:
    """The questionnaire with its parts, its problems and, for a self-test, its counts."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    return _page(request, session, course, questionnaire, now)


@router.post(
    "/studio/courses/{slug}/questionnaires/{questionnaire_id}", response_class=HTMLResponse
)
def save_settings(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    form: Annotated[Posted[SettingsForm], posted(SettingsForm)],
) -> Response:
    """Save the title, web address, language, self-test, introduction and scoring."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    changed: list[bool] = []

    def save(data: SettingsForm) -> None:
        changed.append(service.save_settings(session, questionnaire=questionnaire, data=data))

    refused = _attempt(
        request, session, course, questionnaire, now, name="settings", form=form, action=save
    )
    return refused or _done(
        course, questionnaire, "saved" if changed[0] else "unchanged", "settings"
    )


@router.post(
    "/studio/courses/{slug}/questionnaires/{questionnaire_id}/status",
    response_class=HTMLResponse,
)
def change_status(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    form: Annotated[Posted[StatusForm], posted(StatusForm)],
) -> Response:
    """Publish (only without problems) or take back to draft."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    courses = service.her_courses(session, course=course)

    def change(data: StatusForm) -> None:
        service.set_status(
            session,
            questionnaire=questionnaire,
            status=data.status,
            version=data.version,
            courses=courses,
        )

    refused = _attempt(
        request, session, course, questionnaire, now, name="status", form=form, action=change
    )
    return refused or _done(course, questionnaire, questionnaire.status, "status")


@router.post(
    "/studio/courses/{slug}/questionnaires/{questionnaire_id}/delete",
    response_class=HTMLResponse,
)
def delete_questionnaire(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete it, unless check-ins use it or it has been filled in."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    try:
        confirmed = form.valid().confirmed
        service.delete(session, questionnaire=questionnaire, confirmed=confirmed)
    except Conflict as exc:
        page = _page(request, session, course, questionnaire, now, problem=exc.message)
        return invalid(exc, page)
    url = f"/studio/courses/{course.slug}?notice=questionnaire-deleted#questionnaires"
    return RedirectResponse(url, status_code=303)


# --- questions, sub-scores and bands --------------------------------------------------------


_BASE = "/studio/courses/{slug}/questionnaires/{questionnaire_id}"


@router.post(_BASE + "/items", response_class=HTMLResponse)
def add_item(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    form: Annotated[Posted[NewItemForm], posted(NewItemForm)],
) -> Response:
    """A new question at the end, opened to fill in."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    added: list[int] = []

    def add(data: NewItemForm) -> None:
        added.append(parts.add_item(session, questionnaire=questionnaire, data=data))

    refused = _attempt(
        request, session, course, questionnaire, now, name="new-item", form=form, action=add
    )
    if refused:
        return refused
    url = f"{_url(course, questionnaire)}?notice=item-added&open=item-{added[0]}#item-{added[0]}"
    return RedirectResponse(url, status_code=303)


@router.post(_BASE + "/items/{index}", response_class=HTMLResponse)
def save_item(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    index: Index,
    form: Annotated[Posted[ItemForm], posted(ItemForm)],
) -> Response:
    """Save a question and its options."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)

    def save(data: ItemForm) -> None:
        parts.save_item(session, questionnaire=questionnaire, index=index, data=data)

    name = f"item-{index}"
    refused = _attempt(
        request, session, course, questionnaire, now, name=name, form=form, action=save
    )
    return refused or _done(course, questionnaire, "item-saved", name)


@router.post(_BASE + "/items/{index}/move", response_class=HTMLResponse)
def move_item(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    index: Index,
    form: Annotated[Posted[ActionForm], posted(ActionForm)],
) -> Response:
    """Move a question one place up or down."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)

    def move(data: ActionForm) -> None:
        parts.move_item(session, questionnaire=questionnaire, index=index, data=data)

    refused = _attempt(
        request, session, course, questionnaire, now, name="move", form=form, action=move
    )
    return refused or _done(course, questionnaire, "item-moved", "items")


def _deleting(kind: str, delete: Callable[..., None]) -> Callable[..., Response]:
    """The route that deletes one question, sub-score or band."""

    def route(
        request: Request,
        session: SessionDep,
        user: RequireInstructor,
        now: Now,
        slug: str,
        questionnaire_id: PathId,
        index: Index,
        form: Annotated[Posted[ActionForm], posted(ActionForm)],
    ) -> Response:
        course, questionnaire = _own(session, user, slug, questionnaire_id)

        def act(data: ActionForm) -> None:
            delete(session, questionnaire=questionnaire, index=index, data=data)

        refused = _attempt(
            request, session, course, questionnaire, now, name="delete", form=form, action=act
        )
        return refused or _done(course, questionnaire, f"{kind}-deleted", f"{kind}s")

    route.__doc__ = f"Delete a {kind} after its confirmation."
    return route


router.post(_BASE + "/items/{index}/delete", response_class=HTMLResponse)(
    _deleting("item", parts.delete_item)
)
router.post(_BASE + "/subscores/{index}/delete", response_class=HTMLResponse)(
    _deleting("subscore", parts.delete_subscore)
)
router.post(_BASE + "/bands/{index}/delete", response_class=HTMLResponse)(
    _deleting("band", parts.delete_band)
)


@router.post(_BASE + "/subscores", response_class=HTMLResponse)
def add_subscore(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    form: Annotated[Posted[SubscoreForm], posted(SubscoreForm)],
) -> Response:
    """A new sub-score: a title and the questions it adds up."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)

    def add(data: SubscoreForm) -> None:
        parts.add_subscore(session, questionnaire=questionnaire, data=data)

    refused = _attempt(
        request, session, course, questionnaire, now, name="new-subscore", form=form, action=add
    )
    return refused or _done(course, questionnaire, "subscore-added", "subscores")


@router.post(_BASE + "/subscores/{index}", response_class=HTMLResponse)
def save_subscore(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    index: Index,
    form: Annotated[Posted[SubscoreForm], posted(SubscoreForm)],
) -> Response:
    """Save a sub-score."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)

    def save(data: SubscoreForm) -> None:
        parts.save_subscore(session, questionnaire=questionnaire, index=index, data=data)

    name = f"subscore-{index}"
    refused = _attempt(
        request, session, course, questionnaire, now, name=name, form=form, action=save
    )
    return refused or _done(course, questionnaire, "subscore-saved", name)


@router.post(_BASE + "/bands", response_class=HTMLResponse)
def add_band(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    form: Annotated[Posted[BandForm], posted(BandForm)],
) -> Response:
    """A new band of scores with its result."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    courses = service.her_courses(session, course=course)

    def add(data: BandForm) -> None:
        parts.add_band(session, questionnaire=questionnaire, data=data, courses=courses)

    refused = _attempt(
        request, session, course, questionnaire, now, name="new-band", form=form, action=add
    )
    return refused or _done(course, questionnaire, "band-added", "bands")


@router.post(_BASE + "/bands/{index}", response_class=HTMLResponse)
def save_band(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    questionnaire_id: PathId,
    index: Index,
    form: Annotated[Posted[BandForm], posted(BandForm)],
) -> Response:
    """Save a band (the bands stay in the order of their scores)."""
    course, questionnaire = _own(session, user, slug, questionnaire_id)
    courses = service.her_courses(session, course=course)

    def save(data: BandForm) -> None:
        parts.save_band(
            session, questionnaire=questionnaire, index=index, data=data, courses=courses
        )

    refused = _attempt(
        request, session, course, questionnaire, now, name=f"band-{index}", form=form, action=save
    )
    return refused or _done(course, questionnaire, "band-saved", "bands")


# --- the course's check-ins -----------------------------------------------------------------


@router.post("/studio/courses/{slug}/check-ins", response_class=HTMLResponse)
def add_check_in(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[CheckInForm], posted(CheckInForm)],
) -> Response:
    """A check-in at the end of the course's list."""
    course = owned_course(session, viewer=user, slug=slug)
    try:
        checkins_service.add(session, course=course, data=form.valid())
    except FormError as exc:
        shown = form.shown(exc, prefix="check-in-")
        return invalid(exc, course_page(request, session, course, **shown))
    url = f"/studio/courses/{course.slug}?notice=check-in-added#check-ins"
    return RedirectResponse(url, status_code=303)


@router.post("/studio/courses/{slug}/check-ins/{check_in_id}/move")
def move_check_in(
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    check_in_id: PathId,
    form: Annotated[Posted[MoveForm], posted(MoveForm)],
) -> RedirectResponse:
    """One place up or down; the same button has the focus afterwards."""
    course = owned_course(session, viewer=user, slug=slug)
    check_in = checkins_service.check_in_of(session, course=course, check_in_id=check_in_id)
    direction = form.valid().direction
    checkins_service.move(session, course=course, check_in=check_in, direction=direction)
    button = f"check-in-{check_in_id}-{direction}"
    return RedirectResponse(f"/studio/courses/{course.slug}?focus={button}", status_code=303)


@router.post("/studio/courses/{slug}/check-ins/{check_in_id}/delete", response_class=HTMLResponse)
def delete_check_in(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    check_in_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete a check-in after its confirmation button."""
    course = owned_course(session, viewer=user, slug=slug)
    check_in = checkins_service.check_in_of(session, course=course, check_in_id=check_in_id)
    if not form.valid().confirmed:
        exc = Conflict(_("Nothing was deleted: confirm with the button “Yes, delete”."))
        return invalid(exc, course_page(request, session, course, errors={"check-in": exc.message}))
    checkins_service.delete(session, course=course, check_in=check_in)
    url = f"/studio/courses/{course.slug}?notice=check-in-deleted#check-ins"
    return RedirectResponse(url, status_code=303)
