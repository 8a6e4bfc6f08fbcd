"""A self-test of our own for the page tests, and a browser that fills its screens in as a
person would: only what the page's form sends (hidden inputs, what is ticked, the button)."""

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.kit.ids import id_of
from api.questionnaires import service
from api.questionnaires.definition import Definition
from api.questionnaires.models import Questionnaire
from tests.factories import make_course, make_user

SLUG = "rugtest"
# Suggested by the lowest band; carried by the test itself for the middle one.
CALM_COURSE = "rustig-begin"


@pytest.fixture
def fresh_definitions() -> Iterator[None]:
    """Forget parsed definitions around a test: each test's rolled-back transaction hands out
    the same questionnaire ids again, and the cache knows a definition by (id, version) only."""
    service._parsed.cache_clear()
    yield
    service._parsed.cache_clear()


def definition(**changes: Any) -> Definition:
    """A scale, a choice, several choices, a warning sign and a text: 0–16 in all."""
    data: dict[str, Any] = {
        "intro": "Vijf vragen over je rug. <script>alert(1)</script>**Neem je tijd.**",
        "scoring": "sum",
        "items": [
            {
                "kind": "scale",
                "key": "pain",
                "text": "Hoeveel last heb je nu van je rug?",
                "min_label": "geen last",
                "max_label": "heel veel last",
            },
            {
                "kind": "single",
                "key": "since",
                "text": "Hoe lang heb je er al last van?",
                "options": [
                    {"label": "Een paar weken", "points": 0},
                    {"label": "Een paar maanden", "points": 2},
                    {"label": "Meer dan een jaar", "points": 3},
                ],
            },
            {
                "kind": "multiple",
                "key": "worse",
                "text": "Wanneer wordt het erger?",
                "options": [
                    {"label": "Lang zitten", "points": 1},
                    {"label": "Spanning", "points": 2},
                    {"label": "Geen van beide", "points": 0},
                ],
            },
            {"kind": "warning", "key": "numb", "text": "Voel je je kruis of liezen minder?"},
            {"kind": "text", "key": "note", "text": "Wil je nog iets kwijt?"},
        ],
        "bands": [
            {
                "min": 0,
                "max": 5,
                "title": "Weinig klachten",
                "text": "Je rug *houdt zich* goed.",
                "course": CALM_COURSE,
            },
            {"min": 6, "max": 10, "title": "Matige klachten", "text": "Begin rustig."},
            {"min": 11, "max": 16, "title": "Veel klachten", "text": "Neem de tijd."},
        ],
    }
    data.update(changes)
    return Definition.model_validate(data)


def make_self_test(
    session: Session,
    *,
    instructor: User | None = None,
    slug: str = SLUG,
    title: str = "Rugtest",
    language: str = "nl",
    status: str = "published",
    course: Course | None = None,
    definition_: Definition | None = None,
) -> Questionnaire:
    """A self-test carried by a paid course; the middle band suggests that course."""
    instructor = instructor or make_user(session, role=Role.instructor, name="Ingrid Docent")
    course = course or make_course(session, instructor=instructor, price_cents=4900)
    chosen = definition_ or definition()
    bands = [
        band.model_copy(update={"course": course.slug}) if index == 1 else band
        for index, band in enumerate(chosen.bands)
    ]
    chosen = chosen.model_copy(update={"bands": bands})
    questionnaire = Questionnaire(
        course_id=id_of(course),
        slug=slug,
        title=title,
        language=language,
        status=status,
        self_test=True,
        definition=service.stored_definition(chosen),
    )
    session.add(questionnaire)
    session.flush()
    return questionnaire


class _FormReader(HTMLParser):
    """What a browser would send from the page's first form to a self-test address (the menu's
    logout form comes before it), but its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.action = ""
        self._in_form = False
        self._done = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if self._done:
            return
        if tag == "form" and attributes.get("action", "").startswith("/test/"):
            self._in_form, self.action = True, attributes.get("action", "")
        if not self._in_form:
            return
        if tag == "input":
            kind = attributes.get("type", "text")
            if kind == "hidden" or (kind in ("radio", "checkbox") and "checked" in attributes):
                self.fields.append((attributes["name"], attributes.get("value", "")))
        elif tag == "textarea":
            self._textarea = attributes["name"]
            self.fields.append((self._textarea, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_of(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The self-test form's action and the fields it would send."""
    reader = _FormReader()
    reader.feed(html)
    return reader.action, reader.fields


def submit(
    client: TestClient,
    page: Response,
    answer: dict[str, str | list[str]] | None = None,
    *,
    go: str = "next",
) -> Response:
    """Press `go` on the page's form after choosing `answer` (question key → value or values)."""
    action, fields = form_of(page.text)
    chosen = {f"q-{key}": value for key, value in (answer or {}).items()}
    data: dict[str, list[str]] = {}
    for name, value in fields:
        if name not in chosen:
            data.setdefault(name, []).append(value)
    for name, picked in chosen.items():
        data[name] = picked if isinstance(picked, list) else [picked]
    data["go"] = [go]
    response: Response = client.post(action, data=data, follow_redirects=False)
    return response


# Answers that come to 2 + 2 + 3 = 7 ("Matige klachten"), no warning sign.
Answers = dict[str, str | list[str]]
MIDDLE: Answers = {
    "pain": "2",
    "since": "1",
    "worse": ["0", "1"],
    "numb": "no",
    "note": "Vooral 's ochtends",
}
# 1 + 0 + 0 = 1 ("Weinig klachten").
LOW: Answers = {"pain": "1", "since": "0", "worse": [], "numb": "no", "note": ""}


def take(client: TestClient, slug: str = SLUG, answers: Answers | None = None) -> Response:
    """Take the whole test from its first page, one screen at a time; the result page."""
    answers = answers if answers is not None else MIDDLE
    page = client.get(f"/test/{slug}")
    assert page.status_code == 200, page.text[:300]
    page = submit(client, page, go="start")
    for key in ("pain", "since", "worse", "numb", "note"):
        assert page.status_code == 200, page.text[:500]
        page = submit(client, page, {key: answers[key]})
    return page
