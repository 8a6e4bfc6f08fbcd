"""The free public self-test at /test/<slug>: one question per screen, her result, and keeping it.

It works without JavaScript and stores nothing while she answers: every screen is a plain form
whose hidden inputs carry the answers so far, so "Vorige" and "Volgende" keep them all. The last
screen's answer is her result (counted once, anonymously, in the test's weekly tally). To keep
it, a signed token with her answers goes into a short-lived cookie, through her sign-up or login
if need be, to a page where she is signed in, gives her consent and confirms.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api.accounts.access import RequireUser, VisitorDep
from api.accounts.models import User
from api.catalog.markdown import render_markdown
from api.clock import Now
from api.consent import service as consent_service
from api.consent import texts
from api.db import SessionDep
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.questionnaires import selftest
from api.questionnaires import service as questionnaires
from api.questionnaires.definition import MAX_ITEMS, Definition, MultipleItem, format_score
from api.questionnaires.scoring import Result, read_answers, score
from api.questionnaires.selftest import KeptResult
from api.questionnaires.service import SelfTest
from web.forms import Form, Posted, invalid, posted
from web.pages.common import settings_of
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

# An answer's input name: the question's key after this prefix, so that no key can clash with
# the form's own inputs (csrf_token, at, go).
ANSWER = "q-"
KEEP_COOKIE = "kern_self_test"
# Her practice log, whose "Je metingen" part shows her measurements over time.
PROGRESS_PAGE = "/practice#measurements"


class ScreenForm(Form):
    """A screen's own inputs: which question it showed, and the button she pressed."""

    at: int = Field(default=0, ge=0, lt=MAX_ITEMS)
    go: Literal["start", "next", "back"] = "next"


class KeepForm(Form):
    """The "Bewaar mijn uitslag" button: the signed token of her result."""

    token: str = Field(default="", max_length=selftest.MAX_TOKEN_LENGTH)


class ConfirmKeepForm(Form):
    """Keeping it for good: the token, and her consent when she has not given it yet."""

    token: str = Field(default="", max_length=selftest.MAX_TOKEN_LENGTH)
    agree: str = ""
    version: str = ""


# What she answered so far, by question key: every value of every answer input (several for a
# question with several choices). Read beside the screen's own form: the questions differ per test.
Typed = dict[str, list[str]]


async def _typed_answers(request: Request) -> Typed:
    data = await request.form()  # parsed already by the CSRF check
    typed: Typed = {}
    for name in data:
        if name.startswith(ANSWER):
            typed[name.removeprefix(ANSWER)] = [v for v in data.getlist(name) if isinstance(v, str)]
    return typed


TypedAnswers = Annotated[Typed, Depends(_typed_answers)]


def _raw(definition: Definition, typed: Typed) -> dict[str, Any]:
    """Her answers as read_answers takes them: a list for several choices, else one text."""
    raw: dict[str, Any] = {}
    for item in definition.items:
        values = typed.get(item.key, [])
        raw[item.key] = values if isinstance(item, MultipleItem) else (values[0] if values else "")
    return raw


def _find(session: SessionDep, visitor: VisitorDep, slug: str) -> SelfTest:
    test = selftest.find(session, slug=slug, viewer=visitor.signed_in)
    if test is None:
        raise NotFound(_("We could not find this test. Perhaps its address changed."))
    return test


FoundTest = Annotated[SelfTest, Depends(_find)]


# --- the test ------------------------------------------------------------------------------


@router.get("/test/{slug}", response_class=HTMLResponse)
def show_intro(request: Request, test: FoundTest) -> HTMLResponse:
    """What the test is about, how long it takes, and the start button."""
    context = {
        "test": test,
        "count": len(test.definition.items),
        "intro": render_markdown(test.definition.intro),
        "preview": not selftest.is_public(test),
    }
    return render(request, "selftest/intro.html", context)


@router.post("/test/{slug}", response_class=HTMLResponse)
def answer(
    request: Request,
    session: SessionDep,
    now: Now,
    test: FoundTest,
    form: Annotated[Posted[ScreenForm], posted(ScreenForm)],
    typed: TypedAnswers,
) -> HTMLResponse:
    """The next screen, the previous one, this one again with what is missing, or the result."""
    # A screen no browser sends (a number out of range) is refused as any such form: at 422.
    data = form.valid()
    definition = test.definition
    if not definition.items:
        # Only a draft its instructor tries out can be without questions.
        raise NotFound(_("This test has no questions yet."))
    last = len(definition.items) - 1
    at = min(data.at, last)
    if data.go == "start":
        return _screen(request, test, typed, 0)
    if data.go == "back":
        return _screen(request, test, typed, max(at - 1, 0))
    item = definition.items[at]
    _answers, errors = read_answers(definition, _raw(definition, typed), keys=[item.key])
    if errors:
        return invalid(FormError(_fields(errors)), _screen(request, test, typed, at, errors))
    if at < last:
        return _screen(request, test, typed, at + 1)
    answers, errors = read_answers(definition, _raw(definition, typed))
    if errors:
        # An earlier answer went missing on the way (an old or altered page): that one again.
        first = next(i for i, item in enumerate(definition.items) if item.key in errors)
        page = _screen(request, test, typed, first, errors)
        return invalid(FormError(_fields(errors)), page)
    result = score(definition, answers)
    if selftest.is_public(test):
        questionnaires.count_self_test(
            session, questionnaire=test.questionnaire, result=result, now=now
        )
    token = selftest.keep_token(
        settings_of(request),
        questionnaire=test.questionnaire,
        answers=answers,
        nonce=selftest.new_nonce(),
        now=now,
    )
    context = {**_result_context(session, test, result), "token": token}
    return render(request, "selftest/result.html", context)


def _fields(errors: dict[str, str]) -> dict[str, str]:
    return {ANSWER + key: message for key, message in errors.items()}


def _screen(
    request: Request,
    test: SelfTest,
    typed: Typed,
    at: int,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    """Question `at` (from 0) with her answer so far, the other answers in hidden inputs."""
    items = test.definition.items
    item = items[at]
    hidden = [
        (ANSWER + other.key, value)
        for other in items
        if other.key != item.key
        for value in typed.get(other.key, [])
    ]
    context = {
        "test": test,
        "item": item,
        "at": at,
        "number": at + 1,
        "count": len(items),
        "percent": round(100 * at / len(items)),
        "chosen": typed.get(item.key, []),
        "hidden": hidden,
        "name": ANSWER + item.key,
        "error": (errors or {}).get(item.key),
        "last": at == len(items) - 1,
    }
    return render(request, "selftest/question.html", context)


def _result_context(session: SessionDep, test: SelfTest, result: Result) -> dict[str, Any]:
    """What the result page and the kept page show of a result."""
    low, high = test.definition.score_range()
    band = result.band
    return {
        "test": test,
        "result": result,
        "score_text": _(
            "Your score is %(score)s, on a scale from %(low)s to %(high)s.",
            score=format_score(result.score),
            low=format_score(low),
            high=format_score(high),
        ),
        "band_text": render_markdown(band.text) if band is not None else "",
        # Never with a warning sign: then she is asked to see a doctor first.
        "suggested": selftest.recommended_course(session, test=test, result=result),
        "progress_page": PROGRESS_PAGE,
    }


# --- keeping the result --------------------------------------------------------------------


def _keep_path(test: SelfTest) -> str:
    return f"/test/{test.questionnaire.slug}/keep"


def _set_keep_cookie(request: Request, response: Response, test: SelfTest, token: str) -> None:
    """The token in an HttpOnly cookie for the keep page only, as long as the token holds."""
    settings = settings_of(request)
    response.set_cookie(
        KEEP_COOKIE,
        token,
        max_age=int(selftest.KEEP_LIFETIME.total_seconds()),
        path=_keep_path(test),
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://") or settings.is_production,
    )


def _clear_keep_cookie(request: Request, response: Response, test: SelfTest) -> None:
    settings = settings_of(request)
    response.delete_cookie(
        KEEP_COOKIE,
        path=_keep_path(test),
        httponly=True,
        secure=settings.base_url.startswith("https://") or settings.is_production,
    )


def _kept(request: Request, test: SelfTest, token: str, now: Now) -> KeptResult | None:
    kept = selftest.read_keep_token(settings_of(request), token, now=now)
    return kept if kept is not None and selftest.belongs_to(kept, test) else None


def _lost(request: Request, test: SelfTest) -> HTMLResponse:
    """The result cannot be kept (too old, altered, or from another browser): say so, keep
    nothing, and offer the test again."""
    return render(request, "selftest/keep_lost.html", {"test": test}, status_code=400)


@router.post("/test/{slug}/keep")
def keep(
    request: Request,
    now: Now,
    test: FoundTest,
    form: Annotated[Posted[KeepForm], posted(KeepForm)],
) -> Response:
    """ "Bewaar mijn uitslag": the result goes with her, in a cookie, to the keep page."""
    data = form.valid()
    if _kept(request, test, data.token, now) is None:
        return _lost(request, test)
    response = RedirectResponse(_keep_path(test), status_code=303)
    _set_keep_cookie(request, response, test, data.token)
    return response


@router.get("/test/{slug}/keep", response_class=HTMLResponse)
def show_keep(
    request: Request, session: SessionDep, visitor: VisitorDep, now: Now, test: FoundTest
) -> HTMLResponse:
    """Signed in: what keeping means and her consent, then a button; otherwise the way to an
    account (sign up or log in), which brings her back here."""
    token = request.cookies.get(KEEP_COOKIE, "")
    kept = _kept(request, test, token, now)
    if kept is None:
        return _lost(request, test)
    user = visitor.signed_in
    if user is None:
        return render(
            request, "selftest/keep_account.html", {"test": test, "next": _keep_path(test)}
        )
    return _confirm_page(request, session, test, kept, token, user)


def _confirm_page(
    request: Request,
    session: SessionDep,
    test: SelfTest,
    kept: KeptResult,
    token: str,
    user: User,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    result = _rescored(test, kept)
    if result is None:
        return _lost(request, test)
    context = {
        **_result_context(session, test, result),
        "token": token,
        "ask_consent": not consent_service.has_health_consent(user),
        "consent": texts.health_data_text(),
        "errors": errors or {},
    }
    return render(request, "selftest/keep_confirm.html", context)


def _rescored(test: SelfTest, kept: KeptResult) -> Result | None:
    """The kept answers scored by the test as it is now; None when they no longer fit it (the
    instructor changed the questions in between)."""
    answers, errors = read_answers(test.definition, kept.answers)
    return None if errors else score(test.definition, answers)


@router.post("/test/{slug}/keep/confirm", response_class=HTMLResponse)
def confirm_keep(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    test: FoundTest,
    form: Annotated[Posted[ConfirmKeepForm], posted(ConfirmKeepForm)],
) -> Response:
    """Her consent if she gives it now, then the result stored as her measurement (once, however
    often she presses), and where to find it."""
    data = form.valid()
    kept = _kept(request, test, data.token, now)
    if kept is None:
        return _lost(request, test)
    answers, problems = read_answers(test.definition, kept.answers)
    if problems:
        return _lost(request, test)
    if not consent_service.has_health_consent(user):
        if data.agree != "yes":
            message = _("Tick the box if you agree. Without it, nothing is kept.")
            exc = FormError({"agree": message})
            page = _confirm_page(request, session, test, kept, data.token, user, exc.fields)
            return invalid(exc, page)
        try:
            consent_service.give_health_consent(
                session, user=user, version=data.version, language=locale_of(request), now=now
            )
        except consent_service.ConsentTextChanged as changed:
            errors = {"agree": changed.message}
            page = _confirm_page(request, session, test, kept, data.token, user, errors)
            return invalid(changed, page)
    result = score(test.definition, answers)
    questionnaires.record(
        session,
        user=user,
        questionnaire=test.questionnaire,
        answers=answers,
        result=result,
        occasion=kept.occasion,
        course_id=None,
        now=now,
    )
    response = render(request, "selftest/kept.html", _result_context(session, test, result))
    _clear_keep_cookie(request, response, test)
    return response
