"""The access matrix: every route of the app, asked by five people, answers as designed.

`ROUTES` is the table. Each (method, path template) says what an anonymous visitor, two learners
(alice and bob), an instructor and an admin (both with two-step verification on) get back.
`test_the_table_lists_exactly_the_served_routes` fails when the app serves a route the table does
not list, so whoever adds a route has to decide who may use it, and when the table lists a route
the app no longer serves.

The answers are exact: "public" routes have no access check, so each lists what its handler
says to the request made here (a random `{token}` is an invalid link, 400, for everyone); on
"signed-in" routes anonymous visitors are sent to the login (pages) or get 401 JSON (/api/), and
whoever is signed in gets the handler's answer; "guests" pages send signed-in people on to
their "Vandaag" page (/today).

Every (route, persona) pair is its own test, with fresh accounts in the test's rolled-back
transaction: a route that logs out, deletes the account or changes the password cannot spoil
another check. Next to the persona there is a second person, the "other" (bob when the persona
is alice, alice otherwise). For every unsafe request, and every path naming someone's data, she
is signed in in her own browser; path parameters such as `{session_id}` point at her data, and
after the request her session must still work: no one may reach into someone else's account.

The catalog rows point at one paid, published course of the instructor's (`{slug}`) and at its
second lesson, which is not a free preview (`{lesson_slug}`): everyone reads the course, only its
instructor and admins open the locked lesson. `{name}` is a video file in MEDIA_DIR. Drafts,
other instructors and unknown slugs are walked in tests/catalog/.

Left out of the walk, on purpose:
- the `/static` mount: it hands out the files in web/static to everyone and holds no data, so there
  is no access to decide (the coverage test still fails if any other mount appears);
- HEAD: Starlette adds it to every GET route, where it runs the same endpoint as GET.
The OpenAPI description (/api/openapi.json) is a route like any other and is in the table.
"""

import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select
from starlette.routing import Mount, Route

from api import i18n
from api.accounts import sessions
from api.accounts.models import AuthSession, Role, User
from api.articles.models import Article, ArticleComment
from api.catalog.models import Lesson, Step
from api.certificates.models import Certificate
from api.config import Settings
from api.consent.texts import HEALTH_DATA_VERSION
from api.invoices.models import Invoice
from api.journal.models import JournalEntry
from api.kit.ids import id_of
from api.media import hls
from api.media.models import VideoStream
from api.payments.models import Order
from api.push.models import PushSubscription
from api.questionnaires.models import CheckIn, Questionnaire
from api.security.csrf import HEADER, SAFE_METHODS
from api.security.csrf import cookie_name as csrf_cookie_name
from tests.factories import (
    PASSWORD,
    csrf_token,
    enable_totp,
    make_course,
    make_user,
    own_media,
    post_form,
)
from tests.questionnaires.selftest_helpers import make_self_test

# --- the people ----------------------------------------------------------------------------


class Persona(StrEnum):
    anonymous = "anonymous"
    alice = "alice"
    bob = "bob"
    instructor = "instructor"
    admin = "admin"


SIGNED_IN = (Persona.alice, Persona.bob, Persona.instructor, Persona.admin)
LEARNERS = (Persona.alice, Persona.bob)
STAFF = (Persona.instructor, Persona.admin)
ROLES = {
    Persona.alice: Role.learner,
    Persona.bob: Role.learner,
    Persona.instructor: Role.instructor,
    Persona.admin: Role.admin,
}
NAMES = {
    Persona.alice: "Alice de Vries",
    Persona.bob: "Bob Jansen",
    Persona.instructor: "Ingrid Docent",
    Persona.admin: "Aart Beheer",
}
EMAILS = {persona: f"{persona.value}@example.nl" for persona in SIGNED_IN}
NEW_PASSWORD = "stille ochtend 8 3 wandelen"
NEW_ACCOUNT_EMAIL = "nieuw-account@example.nl"


@dataclass(frozen=True)
class Person:
    user: User
    secret: str | None  # for two-step verification codes


@dataclass(frozen=True)
class Scene:
    """One check: the persona's browser and, when the request could reach her, the other
    person's browser next to it."""

    persona: Persona
    me: TestClient
    other: Persona
    # Only signed in for requests that could reach her: unsafe ones and those naming her data.
    other_browser: TestClient | None = None
    other_session_id: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.persona is not Persona.anonymous


# --- what a route should answer -------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The designed answer: a status and, for a redirect, exactly where it leads."""

    status: int
    location: str | None = None
    login_required: bool = False

    def __str__(self) -> str:
        if self.login_required:
            return "login required"
        return f"{self.status} -> {self.location}" if self.location else str(self.status)


OK = Answer(200)
REFUSED_INPUT = Answer(422)  # the route ran and rejected the form as invalid
INVALID_LINK = Answer(400)  # a random {token} is not a valid link
# Anonymous on a signed-in route: pages redirect to the login (back to the page after a GET),
# the API answers 401 JSON.
LOGIN_REQUIRED = Answer(401, login_required=True)


def see_other(location: str) -> Answer:
    return Answer(303, location)


def resolve(answer: Answer, method: str, path: str) -> Answer:
    """Turn LOGIN_REQUIRED into the concrete answer for this request."""
    if not answer.login_required:
        return answer
    if path.startswith("/api/"):
        return Answer(401)
    return see_other("/login?" + urlencode({"next": path if method == "GET" else "/"}))


Access = Literal["public", "guests", "signed-in"]
Answers = Mapping[Persona, Answer]


def everyone(answer: Answer) -> dict[Persona, Answer]:
    """Public: the same answer for everyone, signed in or not."""
    return dict.fromkeys(Persona, answer)


def guests(answer: Answer) -> dict[Persona, Answer]:
    """For anonymous visitors only (sign up, log in): signed-in people go to their day."""
    return {
        Persona.anonymous: answer,
        **dict.fromkeys(SIGNED_IN, TO_TODAY),
    }


def signed_in(answer: Answer, *, staff: Answer | None = None) -> dict[Persona, Answer]:
    """Anyone signed in (with two-step verification where her role needs it); `staff` when
    instructors and admins get a different answer than learners."""
    return {
        Persona.anonymous: LOGIN_REQUIRED,
        **dict.fromkeys(LEARNERS, answer),
        **dict.fromkeys(STAFF, staff or answer),
    }


FormMaker = Callable[[Scene], dict[str, str]]
Check = Callable[[Scene, Response], None]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    access: Access
    answers: Answers
    form: FormMaker | None = None
    check: Check | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


# --- checks beyond the status -----------------------------------------------------------------


def me_json(client: TestClient) -> Response:
    response: Response = client.get("/api/v1/me")
    return response


def signed_out(scene: Scene, _response: Response) -> None:
    assert me_json(scene.me).status_code == 401


def still_signed_in(scene: Scene, _response: Response) -> None:
    if scene.signed_in:
        response = me_json(scene.me)
        assert response.status_code == 200, response.text
        assert response.json()["email"] == EMAILS[scene.persona]


def account_is_gone(scene: Scene, response: Response) -> None:
    if not scene.signed_in:
        return
    signed_out(scene, response)
    login = post_form(scene.me, "/login", {"email": EMAILS[scene.persona], "password": PASSWORD})
    assert login.status_code == 400, "the deleted account can still log in"


def asked_to_open_her_mail(scene: Scene, response: Response) -> None:
    """A sign-up only says to open the mail; whoever was signed in stays herself."""
    assert NEW_ACCOUNT_EMAIL in response.text
    assert 'action="/register"' not in response.text
    if scene.signed_in:
        still_signed_in(scene, response)
    else:
        assert me_json(scene.me).status_code == 401


def own_data_only(scene: Scene, response: Response) -> None:
    """An export or profile holds the persona's own email address and nobody else's."""
    if not scene.signed_in:
        return
    assert EMAILS[scene.persona] in response.text
    for persona in SIGNED_IN:
        if persona is not scene.persona:
            assert EMAILS[persona] not in response.text, f"{persona}'s data is in the answer"


def is_me(scene: Scene, response: Response) -> None:
    if not scene.signed_in:
        assert response.json()["error"] == "login_required"
        return
    own_data_only(scene, response)
    body = response.json()
    assert body["email"] == EMAILS[scene.persona]
    assert body["role"] == ROLES[scene.persona].value
    assert body["two_factor_enabled"] is (scene.persona in STAFF)


def staff_keep_two_factor(scene: Scene, _response: Response) -> None:
    if scene.persona in STAFF:
        assert me_json(scene.me).json()["two_factor_enabled"] is True


def credentials(scene: Scene) -> dict[str, str]:
    """The persona's own login; an anonymous visitor uses alice's."""
    persona = scene.persona if scene.signed_in else Persona.alice
    return {"email": EMAILS[persona], "password": PASSWORD}


def consent_form(_scene: Scene) -> dict[str, str]:
    return {"agree": "yes", "version": HEALTH_DATA_VERSION}


def others_consent_untouched(scene: Scene, _response: Response) -> None:
    """Giving consent is for oneself: the other person has still not agreed."""
    assert scene.other_browser is not None
    answer = scene.other_browser.get("/api/v1/me/consents/health-data")
    assert answer.status_code == 200, answer.text
    assert answer.json()["given"] is False, f"{scene.other} agreed without asking"


def others_entry_untouched(scene: Scene, _response: Response) -> None:
    """Whatever the persona sent, the other person's journal entry is still hers, as written."""
    assert scene.other_browser is not None
    [entry] = scene.other_browser.get("/account/export").json()["journal"]
    assert (entry["text"], entry["shared_with_course_id"]) == (JOURNAL_TEXT, None)


def others_comment_kept(scene: Scene, _response: Response) -> None:
    """Her comment under the article is still there, whoever tried to delete it."""
    assert scene.other_browser is not None
    kept = scene.other_browser.get("/account/export").json()["article_comments"]
    assert [comment["text"] for comment in kept] == [COMMENT_TEXT]


def others_device_kept(scene: Scene, _response: Response) -> None:
    """Her device still receives her notifications, whoever tried to remove it."""
    assert scene.other_browser is not None
    devices = scene.other_browser.get("/api/v1/me/push-subscriptions").json()["devices"]
    assert [str(device["id"]) for device in devices] == [PUSH_IDS[scene.other]]


def delete_confirmation(_scene: Scene) -> dict[str, str]:
    word = i18n.translations(i18n.DEFAULT_LOCALE).ugettext("DELETE")
    return {"password": PASSWORD, "confirmation": word}


# --- the table ------------------------------------------------------------------------------

TO_ACCOUNT = see_other("/account")
TO_TODAY = see_other("/today")
TO_LOGIN = see_other("/login")
LOCKED = Answer(403)  # a lesson that opens with enrolment


def staff_only(others: Answer) -> dict[Persona, Answer]:
    """Open to the instructor (who owns the content) and admins; `others` for everyone else."""
    return {
        Persona.anonymous: others,
        **dict.fromkeys(LEARNERS, others),
        **dict.fromkeys(STAFF, OK),
    }


def lesson_locked_json(scene: Scene, response: Response) -> None:
    if scene.persona in STAFF:
        assert response.json()["slug"] == LOCKED_LESSON
    else:
        assert response.json()["error"] == "lesson_locked"


# The catalog content the rows point at (see `furnish`).
COURSE_SLUG = "matrix-cursus"
LOCKED_LESSON = "les-1-2"  # make_course's second lesson; only the first is a free preview
MEDIA_NAME = "matrix-video.mp4"
MEDIA_STREAM = "0123456789abcdef0123456789abcdef"  # the prefix of its adaptive stream
CATALOG_PATHS = ("/courses", "/api/v1/courses", "/media/")

NOT_FOUND = Answer(404)
PURCHASE_PATHS = ("/courses/{slug}/checkout", "/checkout/")
STUDIO_PATHS = ("/studio/",)
SELF_TEST_PATHS = ("/test/",)
JOURNAL_PATHS = ("/journal/{entry_id}",)
INVOICE_PATHS = ("/account/invoices/",)
FORBIDDEN = Answer(403)


def grant_to_the_other_person(scene: Scene) -> dict[str, str]:
    return {"email": EMAILS[scene.other], "note": "Betaald per bankoverschrijving"}


def no_learner_listed_for_learners(scene: Scene, response: Response) -> None:
    """A learner is refused before any learner's address could be shown."""
    if scene.persona in LEARNERS:
        for persona in SIGNED_IN:
            assert EMAILS[persona] not in response.text


def only_staff_granted(scene: Scene, _response: Response) -> None:
    """Only the instructor and admins can give the other person access."""
    other = scene.other_browser
    if other is None:
        return
    page = other.get(f"/courses/{COURSE_SLUG}/lessons/{LOCKED_LESSON}")
    expected = 200 if scene.persona in STAFF or scene.other in STAFF else 403
    assert page.status_code == expected, page.text[:300]


def demo_checkout_of(persona: Persona) -> str:
    """The open demo checkout `furnish` makes for a learner."""
    return f"demo_cs_matrix_{persona.value}"


def invoice_number_of(persona: Persona) -> str:
    """The invoice `furnish` makes for a learner."""
    return f"2026-{900000 + SIGNED_IN.index(persona)}"


def others_checkout_unpaid(scene: Scene, _response: Response) -> None:
    """Whatever the persona did, the other person's demo checkout is still unpaid."""
    assert scene.other_browser is not None
    orders = scene.other_browser.get("/account/export").json()["orders"]
    assert [order["status"] for order in orders] == ["pending"], f"{scene.other}'s order changed"


ROUTES: tuple[Row, ...] = (
    # Infrastructure and the machine-readable API description.
    Row("GET", "/healthz", "public", everyone(OK)),
    Row("GET", "/readyz", "public", everyone(OK)),
    Row("GET", "/api/openapi.json", "public", everyone(OK)),
    # The front door.
    Row("GET", "/", "public", everyone(OK)),
    Row("GET", "/privacy", "public", everyone(OK)),
    # The terms of sale: public; the matrix has none written, so version 1 is not found.
    Row("GET", "/terms", "public", everyone(OK)),
    Row("GET", "/terms/{version}", "public", everyone(NOT_FOUND)),
    # The installable app: its manifest, service worker and offline page are nobody's own.
    Row("GET", "/manifest.webmanifest", "public", everyone(OK)),
    Row("GET", "/sw.js", "public", everyone(OK)),
    Row("GET", "/offline", "public", everyone(OK)),
    Row(
        "POST",
        "/language",
        "public",
        everyone(TO_ACCOUNT),
        form=lambda _scene: {"language": "en", "next": "/account"},
    ),
    # Signing up and in. POST /register only asks her to open her mail (the mailed link signs
    # her in); POST /login starts a new session, replacing any current one.
    Row("GET", "/register", "guests", guests(OK)),
    Row(
        "POST",
        "/register",
        "public",
        everyone(OK),
        form=lambda _scene: {
            "name": "Nieuwe Cursist",
            "email": NEW_ACCOUNT_EMAIL,
            "password": PASSWORD,
            "language": "nl",
        },
        check=asked_to_open_her_mail,
    ),
    Row("GET", "/login", "guests", guests(OK)),
    Row(
        "POST",
        "/login",
        "public",
        {
            Persona.anonymous: TO_TODAY,
            **dict.fromkeys(LEARNERS, TO_TODAY),
            **dict.fromkeys(STAFF, see_other("/login/two-factor?next=%2Ftoday")),
        },
        form=credentials,
    ),
    # The second step only exists for a half-finished login; nobody here has one.
    Row("GET", "/login/two-factor", "public", everyone(TO_LOGIN)),
    Row(
        "POST",
        "/login/two-factor",
        "public",
        everyone(TO_LOGIN),
        form=lambda _scene: {"code": "000000"},
    ),
    # A sign-in link by mail: the form answers the same for every address.
    Row("GET", "/login/link", "guests", guests(OK)),
    Row(
        "POST",
        "/login/link",
        "public",
        everyone(OK),
        form=lambda scene: {"email": credentials(scene)["email"]},
        check=still_signed_in,
    ),
    Row("GET", "/login/link/{token}", "public", everyone(INVALID_LINK)),
    Row("POST", "/login/link/{token}", "public", everyone(INVALID_LINK)),
    Row(
        "POST",
        "/logout",
        "public",
        everyone(see_other("/login?notice=logged-out")),
        check=signed_out,
    ),
    # Links from emails work without a session; a random token is refused for everyone.
    Row("GET", "/verify-email/{token}", "public", everyone(INVALID_LINK)),
    Row("POST", "/verify-email/{token}", "public", everyone(INVALID_LINK)),
    Row("GET", "/forgot-password", "public", everyone(OK)),
    Row(
        "POST",
        "/forgot-password",
        "public",
        everyone(OK),
        form=lambda scene: {"email": credentials(scene)["email"]},
    ),
    Row("GET", "/reset-password/{token}", "public", everyone(INVALID_LINK)),
    Row(
        "POST",
        "/reset-password/{token}",
        "public",
        everyone(INVALID_LINK),
        form=lambda _scene: {"password": NEW_PASSWORD},
    ),
    Row("GET", "/account/confirm-email/{token}", "public", everyone(INVALID_LINK)),
    Row("POST", "/account/confirm-email/{token}", "public", everyone(INVALID_LINK)),
    Row("GET", "/account/cancel-email/{token}", "public", everyone(INVALID_LINK)),
    Row("POST", "/account/cancel-email/{token}", "public", everyone(INVALID_LINK)),
    Row("GET", "/unsubscribe/{token}", "public", everyone(INVALID_LINK)),
    Row("POST", "/unsubscribe/{token}", "public", everyone(INVALID_LINK)),
    # The account: only ever one's own.
    Row("GET", "/account", "signed-in", signed_in(OK), check=own_data_only),
    Row("GET", "/account/mail", "signed-in", signed_in(OK)),
    Row(
        "POST",
        "/account/mail",
        "signed-in",
        signed_in(see_other("/account/mail?notice=saved")),
        form=lambda _scene: {"weekdays": "0", "times": "08:00"},
    ),
    Row(
        "POST",
        "/account/mail/devices/{subscription_id}/remove",
        "signed-in",
        signed_in(NOT_FOUND),
        check=others_device_kept,
    ),
    Row(
        "POST",
        "/account/profile",
        "signed-in",
        signed_in(see_other("/account?notice=saved")),
        form=lambda _scene: {"name": "Nieuwe Naam", "language": "nl"},
    ),
    Row(
        "POST",
        "/account/password",
        "signed-in",
        signed_in(see_other("/account?notice=password-changed")),
        form=lambda _scene: {"current_password": PASSWORD, "password": NEW_PASSWORD},
        check=still_signed_in,
    ),
    Row(
        "POST",
        "/account/email",
        "signed-in",
        signed_in(see_other("/account?notice=email-sent")),
        form=lambda _scene: {"email": "nieuw-adres@example.nl", "password": PASSWORD},
    ),
    Row(
        "POST",
        "/account/email/cancel",
        "signed-in",
        signed_in(see_other("/account?notice=email-change-cancelled")),
        check=still_signed_in,
    ),
    Row(
        "POST",
        "/account/verify/resend",
        "signed-in",
        signed_in(see_other("/account?notice=verification-sent")),
    ),
    # {session_id} is the other person's session: the request must leave it alone (checked
    # after every request) and answer as if it ended one of her own.
    Row(
        "POST",
        "/account/sessions/{session_id}/end",
        "signed-in",
        signed_in(see_other("/account?notice=sessions-ended")),
        check=still_signed_in,
    ),
    Row(
        "POST",
        "/account/sessions/end-others",
        "signed-in",
        signed_in(see_other("/account?notice=sessions-ended")),
        check=still_signed_in,
    ),
    Row("GET", "/account/two-factor", "signed-in", signed_in(OK)),
    # A wrong code for learners setting up; "already on" for instructors and admins.
    Row(
        "POST",
        "/account/two-factor",
        "signed-in",
        signed_in(REFUSED_INPUT),
        form=lambda _scene: {"code": "000000"},
    ),
    Row(
        "POST",
        "/account/two-factor/recovery-codes",
        "signed-in",
        signed_in(OK),
        form=lambda _scene: {"password": PASSWORD},
    ),
    # Learners may switch it off; instructors' and admins' role requires it.
    Row(
        "POST",
        "/account/two-factor/disable",
        "signed-in",
        signed_in(see_other("/account?notice=two-factor-off"), staff=REFUSED_INPUT),
        form=lambda _scene: {"password": PASSWORD},
        check=staff_keep_two_factor,
    ),
    # Her consent to keeping health data, and deleting her practice log: her own only.
    Row("GET", "/account/health-consent", "signed-in", signed_in(OK)),
    Row(
        "POST",
        "/account/health-consent",
        "signed-in",
        signed_in(see_other("/account?notice=consent-given#health-data")),
        form=consent_form,
        check=others_consent_untouched,
    ),
    Row(
        "POST",
        "/account/health-consent/withdraw",
        "signed-in",
        signed_in(see_other("/account?notice=consent-withdrawn#health-data")),
    ),
    Row("GET", "/account/practice-log/delete", "signed-in", signed_in(OK)),
    Row(
        "POST",
        "/account/practice-log/delete",
        "signed-in",
        signed_in(see_other("/account?notice=practice-log-deleted#health-data")),
    ),
    Row("GET", "/account/export", "signed-in", signed_in(OK), check=own_data_only),
    Row("GET", "/account/delete", "signed-in", signed_in(OK)),
    Row(
        "POST",
        "/account/delete",
        "signed-in",
        signed_in(OK),
        form=delete_confirmation,
        check=account_is_gone,
    ),
    # The catalog: courses are public; a lesson that is not a free preview opens for its
    # instructor and admins only (and, in a later issue, for enrolled learners).
    Row("GET", "/courses", "public", everyone(OK)),
    Row("GET", "/courses/{slug}", "public", everyone(OK)),
    Row("GET", "/courses/{slug}/lessons/{lesson_slug}", "public", staff_only(LOCKED)),
    Row("GET", "/media/{name}", "public", everyone(OK)),
    # A file of that video's adaptive stream: by the same rules (a paid lesson's stream is
    # walked in tests/media/).
    Row("GET", "/media/hls/{stream_prefix}/{part}", "public", everyone(OK)),
    # Certificates: made on the course by whoever finished it (an empty name is refused before
    # anything else); the check page is public and says only what is printed; the PDF is hers
    # alone ({code} is the other person's certificate).
    Row("GET", "/courses/{slug}/certificate", "signed-in", signed_in(OK)),
    Row("POST", "/courses/{slug}/certificate", "signed-in", signed_in(REFUSED_INPUT)),
    Row("GET", "/certificates/{code}", "public", everyone(OK)),
    Row("GET", "/certificates/{code}/pdf", "signed-in", signed_in(NOT_FOUND)),
    Row("GET", "/account/certificates", "signed-in", signed_in(OK)),
    # Buying (no Stripe settings here: the demo checkout). Learners go to their own open demo
    # checkout; the instructor and admins can open every lesson already, so the course page.
    # {checkout_id} is the other person's demo checkout: nobody else may see or pay it.
    Row(
        "POST",
        "/courses/{slug}/checkout",
        "signed-in",
        {
            Persona.anonymous: LOGIN_REQUIRED,
            **{p: see_other(f"/checkout/demo/{demo_checkout_of(p)}") for p in LEARNERS},
            **dict.fromkeys(STAFF, see_other(f"/courses/{COURSE_SLUG}")),
        },
        form=lambda _scene: {"withdrawal_waiver": "yes"},
    ),
    # Her invoices: {number} is the other person's, which nobody else may download (admins
    # neither: they have the revenue page).
    Row(
        "GET",
        "/account/invoices/{number}",
        "signed-in",
        signed_in(NOT_FOUND),
    ),
    # The quarter's revenue: the instructor (her own courses) and admins.
    Row("GET", "/studio/revenue", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("GET", "/studio/revenue.csv", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    # Her overdue instalment's payment page; nobody here has a plan, so back to the course.
    Row(
        "GET",
        "/courses/{slug}/instalment",
        "signed-in",
        signed_in(see_other(f"/courses/{COURSE_SLUG}")),
    ),
    Row("GET", "/checkout/success", "signed-in", signed_in(NOT_FOUND)),
    Row("GET", "/checkout/demo/{checkout_id}", "signed-in", signed_in(NOT_FOUND)),
    Row(
        "POST",
        "/checkout/demo/{checkout_id}",
        "signed-in",
        signed_in(NOT_FOUND),
        check=others_checkout_unpaid,
    ),
    # The matrix course is paid: nobody joins it for free.
    Row("POST", "/courses/{slug}/enrol", "signed-in", signed_in(Answer(409))),
    # Who is enrolled, and access by hand: the course's instructor and admins only.
    Row(
        "GET",
        "/studio/courses/{slug}/learners",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
        check=no_learner_listed_for_learners,
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/learners",
        "signed-in",
        signed_in(
            FORBIDDEN, staff=see_other(f"/studio/courses/{COURSE_SLUG}/learners?notice=granted")
        ),
        form=grant_to_the_other_person,
        check=only_staff_granted,
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/learners/{enrolment_id}/revoke",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
        form=lambda _scene: {"note": "matrix"},
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/learners.csv",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
        check=no_learner_listed_for_learners,
    ),
    Row("GET", "/studio/courses/{slug}/insight", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    # A course's groups: its instructor and admins; an empty new group is refused as input, and
    # no group has the matrix's cohort id.
    Row("GET", "/studio/courses/{slug}/cohorts", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row(
        "POST",
        "/studio/courses/{slug}/cohorts",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/cohorts/settings",
        "signed-in",
        signed_in(FORBIDDEN, staff=see_other(f"/studio/courses/{COURSE_SLUG}/cohorts")),
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/cohorts/{cohort_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/cohorts/{cohort_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/cohorts/{cohort_id}/move",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/cohorts/{cohort_id}/add",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/cohorts/{cohort_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    # One learner's page (her check-ins): the course's instructor and admins; no such enrolment.
    Row(
        "GET",
        "/studio/courses/{slug}/learners/{enrolment_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
        check=no_learner_listed_for_learners,
    ),
    # The studio: instructors and admins only; a course's pages for its owner and admins (another
    # instructor is walked in tests/studio/test_other_instructor.py). Empty forms are refused as
    # input; the lesson and module ids are the matrix course's own.
    Row("GET", "/studio", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    # The attention list: each instructor her own learners, admins everyone's; a handled mark
    # without a reason on the list is not found (another instructor's learner: the same).
    Row("GET", "/studio/attention", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row(
        "POST",
        "/studio/attention/{enrolment_id}/handled",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    # The practice's identity: admins only; an empty form is refused as input.
    Row("GET", "/studio/practice", "signed-in", {**signed_in(FORBIDDEN), Persona.admin: OK}),
    # The terms of sale: admins write them; an empty text is refused.
    Row("GET", "/studio/terms", "signed-in", {**signed_in(FORBIDDEN), Persona.admin: OK}),
    Row(
        "POST", "/studio/terms", "signed-in", {**signed_in(FORBIDDEN), Persona.admin: REFUSED_INPUT}
    ),
    Row(
        "POST",
        "/studio/practice",
        "signed-in",
        {**signed_in(FORBIDDEN), Persona.admin: REFUSED_INPUT},
    ),
    # Discount codes: instructors (and admins) make their own; an empty form is refused.
    Row("GET", "/studio/discounts", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("POST", "/studio/discounts", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    # Switching a code off: only her own; no code has this id.
    Row(
        "POST",
        "/studio/discounts/{discount_id}/off",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row("GET", "/studio/courses/new", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("POST", "/studio/courses/new", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row("POST", "/studio/preview", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("GET", "/studio/import", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("GET", "/studio/profile", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row(
        "POST",
        "/studio/profile",
        "signed-in",
        signed_in(FORBIDDEN, staff=see_other("/studio/profile?notice=saved")),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/testimonials",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    # The matrix course has no testimonials yet.
    Row(
        "POST",
        "/studio/courses/{slug}/testimonials/{position}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row("POST", "/studio/import", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row("GET", "/studio/courses/{slug}", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("POST", "/studio/courses/{slug}", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row(
        "POST",
        "/studio/courses/{slug}/status",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row("GET", "/studio/courses/{slug}/delete", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row(
        "POST",
        "/studio/courses/{slug}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row("GET", "/studio/courses/{slug}/export.zip", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row(
        "POST",
        "/studio/courses/{slug}/cover",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/modules",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/modules/{module_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/modules/{module_id}/move",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/modules/{module_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/modules/{module_id}/delete",
        "signed-in",
        signed_in(
            FORBIDDEN,
            staff=see_other(f"/studio/courses/{COURSE_SLUG}?notice=module-deleted#modules"),
        ),
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/modules/{module_id}/lessons/new",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/modules/{module_id}/lessons/new",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/lessons/{lesson_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/move",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    # Deleting without the confirmation is refused as a conflict, and nothing is deleted.
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=Answer(409)),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/video",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    # How the conversion of its uploaded video stands (it has none: no state).
    Row(
        "GET",
        "/studio/courses/{slug}/lessons/{lesson_id}/video/status",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/steps",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/move",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/picture",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/picture/remove",
        "signed-in",
        signed_in(FORBIDDEN, staff=Answer(303)),
    ),
    # A course's questionnaires and check-ins in the studio (the matrix course has one
    # questionnaire, used by one check-in). Empty forms are refused as input; deleting the
    # questionnaire is refused while the check-in uses it, a check-in without confirmation.
    Row(
        "POST",
        "/studio/courses/{slug}/questionnaires",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/questionnaires/{questionnaire_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=OK),
    ),
    *(
        Row(
            "POST",
            "/studio/courses/{slug}/questionnaires/{questionnaire_id}" + part,
            "signed-in",
            signed_in(FORBIDDEN, staff=REFUSED_INPUT),
        )
        for part in (
            "",
            "/status",
            "/items",
            "/items/{index}",
            "/items/{index}/move",
            "/items/{index}/delete",
            "/subscores",
            "/subscores/{index}",
            "/subscores/{index}/delete",
            "/bands",
            "/bands/{index}",
            "/bands/{index}/delete",
        )
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/questionnaires/{questionnaire_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=Answer(409)),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/check-ins",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/check-ins/{check_in_id}/move",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/check-ins/{check_in_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=Answer(409)),
    ),
    # Stripe's webhook answers to a signature, not a person; here no secret is configured.
    Row("POST", "/stripe/webhook", "public", everyone(Answer(400))),
    # The JSON API.
    Row("GET", "/api/v1/me", "signed-in", signed_in(OK), check=is_me),
    Row("GET", "/api/v1/me/export", "signed-in", signed_in(OK), check=own_data_only),
    Row("GET", "/api/v1/me/consents/health-data", "signed-in", signed_in(OK)),
    # An empty body is not an agreement; tests/consent/ walks the real thing.
    Row("POST", "/api/v1/me/consents/health-data", "signed-in", signed_in(REFUSED_INPUT)),
    Row("DELETE", "/api/v1/me/consents/health-data", "signed-in", signed_in(Answer(204))),
    # Her devices for push notifications; {subscription_id} is the other person's device. An
    # empty body is no browser's subscription; tests/push/ walks the real thing.
    Row("GET", "/api/v1/me/push-subscriptions", "signed-in", signed_in(OK)),
    Row("POST", "/api/v1/me/push-subscriptions", "signed-in", signed_in(REFUSED_INPUT)),
    Row(
        "DELETE",
        "/api/v1/me/push-subscriptions/{subscription_id}",
        "signed-in",
        signed_in(NOT_FOUND),
        check=others_device_kept,
    ),
    Row("GET", "/api/v1/courses", "public", everyone(OK)),
    Row("GET", "/api/v1/courses/{slug}", "public", everyone(OK)),
    Row(
        "GET",
        "/api/v1/courses/{slug}/lessons/{lesson_slug}",
        "public",
        staff_only(LOCKED),
        check=lesson_locked_json,
    ),
    # Progress and practice: her own (reading her own needs no enrolment; writing needs a lesson
    # she may open, so the locked lesson refuses learners and lets staff through).
    Row("GET", "/api/v1/courses/{slug}/progress", "signed-in", signed_in(OK)),
    Row("GET", "/api/v1/courses/{slug}/lessons/{lesson_slug}/progress", "signed-in", signed_in(OK)),
    Row(
        "PUT",
        "/api/v1/courses/{slug}/lessons/{lesson_slug}/completion",
        "signed-in",
        signed_in(LOCKED, staff=OK),
    ),
    Row(
        "DELETE",
        "/api/v1/courses/{slug}/lessons/{lesson_slug}/completion",
        "signed-in",
        signed_in(LOCKED, staff=OK),
    ),
    Row(
        "PUT",
        "/api/v1/courses/{slug}/lessons/{lesson_slug}/position",
        "signed-in",
        signed_in(LOCKED, staff=OK),
        form=lambda _scene: {"seconds": "5"},
    ),
    # An empty body is refused as input; tests/progress/ walks the real thing.
    Row("POST", "/api/v1/practice", "signed-in", signed_in(REFUSED_INPUT)),
    Row("GET", "/api/v1/practice", "signed-in", signed_in(OK)),
    Row("GET", "/api/v1/summary", "signed-in", signed_in(OK)),
    # Check-ins: her own measures and due check-ins (none in the matrix course); sending one
    # needs a body (an empty one is refused as input). tests/questionnaires/ walks the rest.
    Row("GET", "/api/v1/courses/{slug}/measurements", "signed-in", signed_in(OK)),
    Row("GET", "/api/v1/courses/{slug}/check-ins", "signed-in", signed_in(OK)),
    Row("POST", "/api/v1/courses/{slug}/check-ins/{key}", "signed-in", signed_in(REFUSED_INPUT)),
    # The check-in form: only for a check-in open to her in a course she follows; the matrix
    # course has none, so nobody finds it.
    Row("GET", "/courses/{slug}/check-ins/{key}", "signed-in", signed_in(NOT_FOUND)),
    Row("POST", "/courses/{slug}/check-ins/{key}", "signed-in", signed_in(NOT_FOUND)),
    # Her own pages: "Vandaag" and her practice log show only her data.
    Row("GET", "/today", "signed-in", signed_in(OK)),
    Row("GET", "/practice", "signed-in", signed_in(OK)),
    # "No, thank you" to Vandaag's reminder offer: only her own mail preferences change.
    Row("POST", "/today/reminder-offer/close", "signed-in", signed_in(TO_TODAY)),
    Row("GET", "/today/routine", "signed-in", signed_in(OK)),
    # The complete/undo forms: refused like opening the locked lesson; staff go back to it.
    Row(
        "POST",
        "/courses/{slug}/lessons/{lesson_slug}/complete",
        "signed-in",
        signed_in(
            LOCKED, staff=see_other(f"/courses/{COURSE_SLUG}/lessons/{LOCKED_LESSON}#progress")
        ),
    ),
    Row(
        "POST",
        "/courses/{slug}/lessons/{lesson_slug}/incomplete",
        "signed-in",
        signed_in(
            LOCKED, staff=see_other(f"/courses/{COURSE_SLUG}/lessons/{LOCKED_LESSON}#progress")
        ),
    ),
    # Her questions to her therapist: only in a course she follows (nobody here follows the
    # matrix course, staff answer in the studio); tests/messages/ walks the real thing.
    Row("GET", "/questions", "signed-in", signed_in(OK)),
    Row("POST", "/questions", "signed-in", signed_in(REFUSED_INPUT)),
    Row("GET", "/courses/{slug}/questions", "signed-in", signed_in(NOT_FOUND)),
    Row("POST", "/courses/{slug}/questions", "signed-in", signed_in(NOT_FOUND)),
    # The inbox and its conversations: instructors and admins; no conversation has this id,
    # and one of another instructor's courses is 404 too (tests/messages/).
    Row("GET", "/studio/inbox", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row(
        "GET",
        "/studio/courses/{slug}/questions/{thread_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/questions/{thread_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "GET",
        "/studio/courses/{slug}/questions/{thread_id}/public",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/questions/{thread_id}/public",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lesson-questions/{question_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/courses/{slug}/lesson-questions/{question_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    # The public self-test (`{slug}` is a published self-test of the matrix course): anyone
    # takes it; keeping a result needs a signed token (none here: refused for everyone, and
    # nothing is stored) and, for the last step, an account.
    Row("GET", "/test/{slug}", "public", everyone(OK)),
    Row("POST", "/test/{slug}", "public", everyone(OK), form=lambda _scene: {"go": "start"}),
    Row("POST", "/test/{slug}/keep", "public", everyone(INVALID_LINK)),
    Row("GET", "/test/{slug}/keep", "public", everyone(INVALID_LINK)),
    Row("POST", "/test/{slug}/keep/confirm", "signed-in", signed_in(INVALID_LINK)),
    # Her journal: her own list and form (an empty entry is refused as input); `{entry_id}` is
    # the other person's entry, which nobody else finds, and which stays as it was.
    Row("GET", "/journal", "signed-in", signed_in(OK)),
    Row("GET", "/journal/new", "signed-in", signed_in(OK)),
    Row("POST", "/journal/new", "signed-in", signed_in(REFUSED_INPUT)),
    Row("GET", "/journal/{entry_id}/edit", "signed-in", signed_in(NOT_FOUND)),
    Row(
        "POST",
        "/journal/{entry_id}/edit",
        "signed-in",
        signed_in(NOT_FOUND),
        form=lambda _scene: {"text": "Overschreven"},
        check=others_entry_untouched,
    ),
    Row(
        "POST",
        "/journal/{entry_id}/delete",
        "signed-in",
        signed_in(NOT_FOUND),
        form=lambda _scene: {"confirm": "yes"},
        check=others_entry_untouched,
    ),
    Row(
        "POST",
        "/journal/{entry_id}/share",
        "signed-in",
        signed_in(NOT_FOUND),
        check=others_entry_untouched,
    ),
    Row(
        "POST",
        "/journal/{entry_id}/unshare",
        "signed-in",
        signed_in(NOT_FOUND),
        check=others_entry_untouched,
    ),
    # Booking an intake: anyone books with the instructor (`{instructor_id}`); an empty form is
    # refused as input. Her booking is reached only with the signed link mailed to her.
    Row("GET", "/intake/{instructor_id}", "public", everyone(OK)),
    Row("POST", "/intake/{instructor_id}", "public", everyone(REFUSED_INPUT)),
    Row("GET", "/intake/booking/{token}", "public", everyone(INVALID_LINK)),
    Row("POST", "/intake/booking/{token}/move", "public", everyone(INVALID_LINK)),
    Row("POST", "/intake/booking/{token}/cancel", "public", everyone(INVALID_LINK)),
    # Her availability and bookings in the studio; `{item_id}` is nobody's.
    Row("GET", "/studio/intake", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("POST", "/studio/intake", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row("POST", "/studio/intake/hours", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row(
        "POST", "/studio/intake/exceptions", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)
    ),
    Row(
        "POST",
        "/studio/intake/hours/{item_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    Row(
        "POST",
        "/studio/intake/exceptions/{item_id}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=NOT_FOUND),
    ),
    # The practice's articles (`furnish` makes one with comments open, slug `{slug}`) and the
    # files for search engines: public. A comment is held for approval; `{comment_id}` is the
    # other person's comment, which only she may delete (and the article's author moderate).
    Row("GET", "/artikelen", "public", everyone(OK)),
    Row("GET", "/artikelen/feed.xml", "public", everyone(OK)),
    Row("GET", "/artikelen/{slug}", "public", everyone(OK)),
    Row(
        "POST",
        "/artikelen/{slug}/comments",
        "public",
        everyone(see_other(f"/artikelen/{COURSE_SLUG}?notice=comment-held#comments")),
        form=lambda _scene: {"name": "Matrix", "text": "Mooi geschreven"},
    ),
    Row(
        "POST",
        "/artikelen/comments/{comment_id}/delete",
        "signed-in",
        signed_in(NOT_FOUND),
        check=others_comment_kept,
    ),
    Row("GET", "/sitemap.xml", "public", everyone(OK)),
    Row("GET", "/robots.txt", "public", everyone(OK)),
    Row("GET", "/studio/articles", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("GET", "/studio/articles/new", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("POST", "/studio/articles/new", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row("GET", "/studio/articles/{slug}", "signed-in", signed_in(FORBIDDEN, staff=OK)),
    Row("POST", "/studio/articles/{slug}", "signed-in", signed_in(FORBIDDEN, staff=REFUSED_INPUT)),
    Row(
        "POST",
        "/studio/articles/{slug}/delete",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/articles/{slug}/cover",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/articles/{slug}/video",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/articles/{slug}/comments/{comment_id}",
        "signed-in",
        signed_in(FORBIDDEN, staff=REFUSED_INPUT),
    ),
    Row(
        "POST",
        "/studio/articles/{slug}/comments/{comment_id}/reply",
        "signed-in",
        signed_in(
            FORBIDDEN,
            staff=see_other(f"/studio/articles/{COURSE_SLUG}?notice=comment-answered#comments"),
        ),
    ),
)

# How to fill a path parameter: a random token, an object that belongs to the other person, or
# the catalog content `furnish` makes.
PATH_PARAMETERS: dict[str, Callable[[Scene], str]] = {
    "token": lambda _scene: secrets.token_urlsafe(32),
    "session_id": lambda scene: str(scene.other_session_id),
    "slug": lambda _scene: COURSE_SLUG,
    "lesson_slug": lambda _scene: LOCKED_LESSON,
    "name": lambda _scene: MEDIA_NAME,
    "stream_prefix": lambda _scene: MEDIA_STREAM,
    "part": lambda _scene: hls.MASTER,
    "checkout_id": lambda scene: demo_checkout_of(scene.other),
    # No enrolment has this id: staff get 404, everyone else is stopped before the lookup.
    "enrolment_id": lambda _scene: "999999",
    "cohort_id": lambda _scene: "999999",
    "discount_id": lambda _scene: "999999",
    "module_id": lambda _scene: CONTENT_IDS["module_id"],
    "lesson_id": lambda _scene: CONTENT_IDS["lesson_id"],
    "step_id": lambda _scene: CONTENT_IDS["step_id"],
    # A check-in's key; the matrix course has no check-ins.
    "key": lambda _scene: "q1-enrolment",
    "questionnaire_id": lambda _scene: CONTENT_IDS["questionnaire_id"],
    "check_in_id": lambda _scene: CONTENT_IDS["check_in_id"],
    "index": lambda _scene: "0",
    "entry_id": lambda scene: JOURNAL_IDS[scene.other],
    "subscription_id": lambda scene: PUSH_IDS[scene.other],
    "version": lambda _scene: "1",
    "number": lambda scene: invoice_number_of(scene.other),
    # No conversation or public question has these ids: staff get 404, learners 403.
    "thread_id": lambda _scene: "999999",
    "question_id": lambda _scene: "999999",
    "item_id": lambda _scene: "999999",
    "instructor_id": lambda _scene: CONTENT_IDS["instructor_id"],
    "code": lambda scene: CERTIFICATE_CODES[scene.other],
    "comment_id": lambda scene: COMMENT_IDS[scene.other],
    # The first testimonial of the matrix course (which has none).
    "position": lambda _scene: "1",
}
OBJECT_PARAMETERS = {
    "session_id",
    "checkout_id",
    "entry_id",
    "subscription_id",
    "number",
    "code",
    "comment_id",
}
# Alice's and bob's certificates' codes, by persona; set by `furnish`.
CERTIFICATE_CODES: dict[Persona, str] = {}
# Alice's and bob's comments under the matrix article, by persona; set by `furnish`.
COMMENT_IDS: dict[Persona, str] = {}
ARTICLE_PATHS = ("/artikelen", "/studio/articles")
# Alice's and bob's journal entries, by persona; set by `furnish`.
JOURNAL_IDS: dict[Persona, str] = {}
JOURNAL_TEXT = "Alleen voor mij"
COMMENT_TEXT = "Mijn eigen reactie"
# Alice's and bob's devices for push notifications, by persona; set by `furnish`.
PUSH_IDS: dict[Persona, str] = {}
# The matrix course's second lesson (not a free preview), its module and a step; set by `furnish`.
CONTENT_IDS: dict[str, str] = {}  # parameters that name someone's data
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
SKIPPED_MOUNTS = {"/static"}


# --- what the app serves --------------------------------------------------------------------


def served_routes(app: FastAPI) -> tuple[set[tuple[str, str]], set[str], list[str]]:
    """(method, path template) of every route, the mounts, and anything unrecognised.

    Since FastAPI 0.137 `app.routes` holds one node per included router; `iter_route_contexts`
    is FastAPI's public way to flatten them into the routes as served, prefixes applied.
    """
    routes: set[tuple[str, str]] = set()
    mounts: set[str] = set()
    unknown: list[str] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if isinstance(route, Mount):
            mounts.add(path)
        elif isinstance(route, APIRoute | Route):
            methods = set(context.methods or ())
            if "GET" in methods:
                methods.discard("HEAD")
            routes.update((method, path) for method in methods)
        else:
            unknown.append(f"{type(route).__name__} {path}")
    return routes, mounts, unknown


def test_the_table_lists_exactly_the_served_routes(app: FastAPI) -> None:
    routes, mounts, unknown = served_routes(app)
    keys = [row.key for row in ROUTES]
    assert len(keys) == len(set(keys)), "a route is listed twice"
    assert not unknown, f"routes of a kind this test cannot walk: {unknown}"
    assert mounts == SKIPPED_MOUNTS, f"mounts changed: {sorted(mounts)}"
    missing = sorted(routes - set(keys))
    assert not missing, f"served but not in ROUTES; decide who may use them: {missing}"
    stale = sorted(set(keys) - routes)
    assert not stale, f"in ROUTES but no longer served: {stale}"
    for row in ROUTES:
        assert set(row.answers) == set(Persona), f"{row.key} lacks an answer for some persona"
        for name in PARAMETER.findall(row.path):
            assert name in PATH_PARAMETERS, f"{row.key}: say how to fill {{{name}}}"


# --- walking the matrix ---------------------------------------------------------------------


class People(dict[Persona, Person]):
    """The accounts, each made the first time a check needs it (the TOTP setup costs time)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def __missing__(self, persona: Persona) -> Person:
        user = make_user(
            self.session, name=NAMES[persona], email=EMAILS[persona], role=ROLES[persona]
        )
        secret = enable_totp(self.session, user) if persona in STAFF else None
        self[persona] = person = Person(user, secret)
        return person

    def make(self, persona: Persona) -> Person:
        return self[persona]


@pytest.fixture
def people(session: Session) -> People:
    """Alice and bob (learners, no second factor), an instructor and an admin (both with
    two-step verification on), made on first use."""
    return People(session)


def furnish_her_data(session: Session, people: People, row: Row) -> None:
    """Alice's and bob's own records that the row's path names: invoices, journal entries,
    certificates and push devices (the others' ids fill the path)."""
    if row.path.startswith(INVOICE_PATHS):
        for learner in SIGNED_IN:
            session.add(
                Invoice(
                    number=invoice_number_of(learner),
                    kind="invoice",
                    user_id=people[learner].user.id,
                    description="Matrixcursus",
                    total_cents=4900,
                    net_cents=4050,
                    vat_cents=850,
                )
            )
        session.flush()
    if row.path.startswith(JOURNAL_PATHS):
        for learner in LEARNERS:
            entry = JournalEntry(
                user_id=id_of(people[learner].user), day=date(2026, 11, 19), text=JOURNAL_TEXT
            )
            session.add(entry)
            session.flush()
            JOURNAL_IDS[learner] = str(entry.id)
    if "{code}" in row.path:
        for learner in LEARNERS:
            certificate = Certificate(
                code=secrets.token_hex(16),
                user_id=id_of(people[learner].user),
                name=NAMES[learner],
                course_title="Matrixcursus",
                instructor_name=NAMES[Persona.instructor],
                minutes=60,
            )
            session.add(certificate)
            session.flush()
            CERTIFICATE_CODES[learner] = certificate.code
    if "{subscription_id}" in row.path:
        for learner in LEARNERS:
            device = PushSubscription(
                user_id=id_of(people[learner].user),
                endpoint=f"https://push.example.net/{learner.value}",
                p256dh="B" + "A" * 86,
                auth="A" * 22,
            )
            session.add(device)
            session.flush()
            PUSH_IDS[learner] = str(device.id)


def furnish_article(session: Session, people: People) -> None:
    """The instructor's published article (slug `{slug}`, comments open) with a comment by
    alice and one by bob."""
    article = Article(
        slug=COURSE_SLUG,
        title="Matrixartikel",
        body="Adem rustig.",
        author_id=id_of(people[Persona.instructor].user),
        status="published",
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
        comments_open=True,
    )
    session.add(article)
    session.flush()
    for learner in LEARNERS:
        comment = ArticleComment(
            article_id=id_of(article),
            user_id=people[learner].user.id,
            name=NAMES[learner],
            body=COMMENT_TEXT,
        )
        session.add(comment)
        session.flush()
        COMMENT_IDS[learner] = str(comment.id)


@pytest.fixture
def furnish(session: Session, people: People, settings: Settings) -> Callable[[Row], None]:
    """Make the instructor's course and a media file, for the catalog rows only."""

    def furnish_for(row: Row) -> None:
        if "{instructor_id}" in row.path:
            CONTENT_IDS["instructor_id"] = str(people[Persona.instructor].user.id)
        furnish_her_data(session, people, row)
        if row.path.startswith(ARTICLE_PATHS):
            furnish_article(session, people)
        if not row.path.startswith(CATALOG_PATHS + PURCHASE_PATHS + STUDIO_PATHS + SELF_TEST_PATHS):
            return
        owner = people[Persona.instructor].user
        course = make_course(
            session,
            instructor=owner,
            slug=COURSE_SLUG,
            price_cents=4900,
            modules=1,  # a free preview lesson and a paid one are all the rows need
            lessons_per_module=2,
        )
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        (settings.media_dir / MEDIA_NAME).write_bytes(b"\x00" * 64)
        # The free lesson shows the video file, so /media serves it to everyone.
        lessons = session.exec(
            select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
        ).all()
        lessons[0].video_provider, lessons[0].video_ref = "file", MEDIA_NAME
        own_media(session, course, MEDIA_NAME)
        session.add(VideoStream(name=MEDIA_NAME, prefix=MEDIA_STREAM, state="ready"))
        stream_folder = settings.media_dir / hls.FOLDER / MEDIA_STREAM
        stream_folder.mkdir(parents=True, exist_ok=True)
        (stream_folder / hls.MASTER).write_text("#EXTM3U\n")
        # Its first step, an exercise: only an exercise takes a picture of its position.
        step = session.exec(
            select(Step).where(Step.lesson_id == lessons[1].id).order_by(col(Step.position))
        ).first()
        assert step is not None
        CONTENT_IDS.update(
            module_id=str(lessons[1].module_id), lesson_id=str(lessons[1].id), step_id=str(step.id)
        )
        session.flush()
        if row.path.startswith(SELF_TEST_PATHS):
            make_self_test(session, instructor=owner, slug=COURSE_SLUG, course=course)
        # A questionnaire of the course, asked at enrolment.
        questionnaire = Questionnaire(course_id=id_of(course), slug="matrix-vragen", title="Vragen")
        session.add(questionnaire)
        session.flush()
        check_in = CheckIn(
            course_id=id_of(course), questionnaire_id=id_of(questionnaire), moment="enrolment"
        )
        session.add(check_in)
        session.flush()
        CONTENT_IDS.update(questionnaire_id=str(questionnaire.id), check_in_id=str(check_in.id))
        if row.path.startswith(PURCHASE_PATHS):
            # Alice and bob each have an open demo checkout for the course.
            for learner in LEARNERS:
                session.add(
                    Order(
                        user_id=people[learner].user.id,
                        course_id=course.id,
                        course_title=course.title,
                        subtotal_cents=course.price_cents,
                        amount_cents=course.price_cents,
                        stripe_checkout_session_id=demo_checkout_of(learner),
                    )
                )
            session.flush()

    return furnish_for


@pytest.fixture
def open_browser(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """A new browser (own cookies) on the same app; all are closed after the test.

    Server errors come back as the app's 500 page instead of raising, so the assertions can
    name the route and persona (the traceback is in the captured log). The browsers do not
    run the app's lifespan (its footer cache and threads are not what the matrix checks):
    starting and stopping it for each of the matrix's two thousand browsers cost more than the
    requests themselves."""
    with ExitStack() as stack:

        def open_one() -> TestClient:
            browser = TestClient(app, raise_server_exceptions=False)
            stack.callback(browser.close)
            # The CSRF cookie the app would hand out on the first page (any well-formed token
            # is accepted); setting it here saves every browser a round trip.
            browser.cookies.set(csrf_cookie_name(production=False), secrets.token_urlsafe(32))
            return browser

        yield open_one


def signed_in_browser(
    open_browser: Callable[[], TestClient], person: Person | None, session: Session
) -> TestClient:
    """A browser, signed in as `person` with a session as the login form would have left it
    (second factor done). The login itself is walked in tests/accounts/; starting the session
    directly saves two requests in each of the matrix's checks."""
    browser = open_browser()
    if person is not None:
        settings: Settings = browser.app.state.settings  # type: ignore[attr-defined]
        token = sessions.start(
            session, settings, user=person.user, user_agent="testclient", ip_address="testclient"
        )
        browser.cookies.set(sessions.cookie_name(settings), token)
    return browser


def reaches_others(row: Row) -> bool:
    """Could this request touch another person's account? Then she is signed in, next door."""
    return row.method not in SAFE_METHODS or any(
        name in OBJECT_PARAMETERS for name in PARAMETER.findall(row.path)
    )


def stage(
    row: Row,
    persona: Persona,
    people: People,
    open_browser: Callable[[], TestClient],
    session: Session,
) -> Scene:
    other = Persona.bob if persona is Persona.alice else Persona.alice
    me = signed_in_browser(open_browser, people[persona] if persona in SIGNED_IN else None, session)
    people.make(other)  # she exists even when not signed in: her data must stay hers
    if not reaches_others(row):
        return Scene(persona, me, other)
    other_browser = signed_in_browser(open_browser, people[other], session)
    other_session_id = session.exec(
        select(AuthSession.id).where(col(AuthSession.user_id) == people[other].user.id)
    ).one()
    return Scene(persona, me, other, other_browser, other_session_id)


def fill(path: str, scene: Scene) -> str:
    return PARAMETER.sub(lambda match: PATH_PARAMETERS[match.group(1)](scene), path)


def send(row: Row, scene: Scene) -> tuple[str, Response]:
    """Make the request as a browser (or a script) would: unsafe ones with the CSRF token."""
    url = fill(row.path, scene)
    form = row.form(scene) if row.form else {}
    if row.method == "GET":
        return url, scene.me.get(url, follow_redirects=False)
    if row.method == "POST" and not url.startswith("/api/"):
        return url, post_form(scene.me, url, form)
    response = scene.me.request(
        row.method,
        url,
        json=form,
        headers={HEADER: csrf_token(scene.me)},
        follow_redirects=False,
    )
    return url, response


def _cases() -> Iterator[Any]:
    for row in ROUTES:
        for persona in Persona:
            yield pytest.param(row, persona, id=f"{row.method} {row.path} as {persona}")


@pytest.mark.parametrize(("row", "persona"), list(_cases()))
def test_every_route_answers_every_persona_as_designed(
    row: Row,
    persona: Persona,
    people: People,
    open_browser: Callable[[], TestClient],
    furnish: Callable[[Row], None],
) -> None:
    furnish(row)
    scene = stage(row, persona, people, open_browser, people.session)
    url, response = send(row, scene)
    expected = resolve(row.answers[persona], row.method, url)
    seen = f"{row.method} {url} as {persona}: {response.status_code}"

    assert response.status_code < 500, f"{seen}\n{response.text[:1000]}"
    assert response.status_code == expected.status, (
        f"{seen}, designed {expected} ({row.access})\n{response.text[:500]}"
    )
    if expected.location is not None:
        assert response.headers.get("location") == expected.location, seen
    if expected.status == 401:
        assert response.json()["error"] == "login_required", seen
    if row.check is not None:
        row.check(scene, response)

    # Whatever the persona did, the other person is still signed in as herself.
    if scene.other_browser is not None:
        other = me_json(scene.other_browser)
        assert other.status_code == 200, f"{seen}: {scene.other}'s session was ended"
        assert other.json()["email"] == EMAILS[scene.other]


@pytest.mark.parametrize("path", ["/account/export", "/api/v1/me/export"])
def test_an_export_holds_its_owners_data_and_nobody_elses(
    path: str, people: People, open_browser: Callable[[], TestClient]
) -> None:
    alice = signed_in_browser(open_browser, people[Persona.alice], people.session)
    bob = signed_in_browser(open_browser, people[Persona.bob], people.session)

    alice_export, bob_export = alice.get(path), bob.get(path)

    assert alice_export.status_code == bob_export.status_code == 200
    assert alice_export.json()["account"]["email"] == EMAILS[Persona.alice]
    assert EMAILS[Persona.bob] not in alice_export.text
    assert bob_export.json()["account"]["email"] == EMAILS[Persona.bob]
    assert EMAILS[Persona.alice] not in bob_export.text


def test_bob_cannot_end_alices_session(
    people: People,
    open_browser: Callable[[], TestClient],
    session: Session,
) -> None:
    row = next(row for row in ROUTES if row.path == "/account/sessions/{session_id}/end")
    scene = stage(row, Persona.bob, people, open_browser, session)
    assert scene.other is Persona.alice
    assert scene.other_browser is not None
    assert scene.other_session_id is not None

    response = post_form(scene.me, f"/account/sessions/{scene.other_session_id}/end")

    assert response.status_code == 303
    assert session.get(AuthSession, scene.other_session_id) is not None
    assert me_json(scene.other_browser).json()["email"] == EMAILS[Persona.alice]
