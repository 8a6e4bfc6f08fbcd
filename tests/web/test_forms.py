"""The form layer: what she typed comes back (never a secret), and every problem is a message in
her language at its input."""

from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from pydantic import AfterValidator, Field, field_validator

from api import i18n
from api.errors import Conflict, FormError
from web.forms import Checkbox, Form, Posted, invalid, parse, posted, problem


class LessonForm(Form):
    title: str = Field(min_length=1, max_length=20)
    minutes: int = Field(ge=1, le=120)
    free_preview: Checkbox = False
    slug: str = Field(default="", alias="lesson_slug")
    password: str = ""

    secret = frozenset({"password"})

    @field_validator("slug")
    @classmethod
    def _plain_slug(cls, slug: str) -> str:
        if " " in slug:
            message = "Use only a–z, 0–9 and hyphens, 3 to 80 characters, for example %(example)s."
            raise problem(i18n.gettext(message, example="adem-rustig"))
        return slug


TYPED = {
    "title": "Adem",
    "minutes": "5",
    "free_preview": "on",
    "lesson_slug": "adem",
    "password": "geheim",
}


@pytest.fixture
def dutch() -> None:
    i18n.current_locale.set("nl")


def test_a_valid_form_parses_into_typed_fields() -> None:
    form = parse(LessonForm, TYPED).valid()
    assert (form.title, form.minutes, form.free_preview, form.slug) == ("Adem", 5, True, "adem")


def test_an_unticked_box_is_false_and_missing_inputs_read_as_empty() -> None:
    posted_form = parse(LessonForm, {**TYPED, "free_preview": ""})
    assert posted_form.valid().free_preview is False


def test_what_she_typed_comes_back_by_input_name_without_the_password() -> None:
    posted_form = parse(LessonForm, {**TYPED, "minutes": "vijf"})
    assert posted_form.values == {
        "title": "Adem",
        "minutes": "vijf",
        "free_preview": "on",
        "lesson_slug": "adem",
    }


def test_each_problem_is_a_dutch_message_at_its_input(dutch: None) -> None:
    posted_form = parse(
        LessonForm, {**TYPED, "title": "", "minutes": "vijf", "lesson_slug": "met spatie"}
    )
    assert posted_form.form is None
    assert posted_form.errors == {
        "title": "Vul dit in.",
        "minutes": "Vul een heel getal in, bijvoorbeeld 5.",
        "lesson_slug": "Gebruik alleen a–z, 0–9 en koppeltekens, 3 tot 80 tekens, bijvoorbeeld "
        "adem-rustig.",
    }
    with pytest.raises(FormError) as refused:
        posted_form.valid()
    assert refused.value.fields == posted_form.errors


def test_bounds_are_said_with_their_number() -> None:
    i18n.current_locale.set("en")
    too_long = parse(LessonForm, {**TYPED, "title": "x" * 21, "minutes": "121"})
    assert too_long.errors == {
        "title": "Use at most 20 characters.",
        "minutes": "Use a number of at most 120.",
    }


def test_shown_gives_the_page_the_values_and_the_services_errors() -> None:
    posted_form = parse(LessonForm, TYPED)
    refused = FormError({"lesson_slug": "Bestaat al."})
    assert posted_form.shown(refused) == {
        "values": posted_form.values,
        "errors": {"lesson_slug": "Bestaat al."},
    }


def test_invalid_answers_with_the_errors_status_and_headers() -> None:
    refused = FormError({"password": "Te veel pogingen."})
    refused.status_code = 429
    refused.headers = {"Retry-After": "60"}
    page = invalid(refused, HTMLResponse("<p>form</p>"))
    assert page.status_code == 429
    assert page.headers["retry-after"] == "60"
    assert invalid(FormError({"title": "Vul dit in."}), HTMLResponse("")).status_code == 422


def test_the_dependency_reads_the_request_form() -> None:
    app = FastAPI()

    @app.post("/lesson")
    def save(form: Annotated[Posted[LessonForm], posted(LessonForm)]) -> dict[str, object]:
        return {"values": form.values, "errors": form.errors}

    with TestClient(app) as client:
        answer = client.post("/lesson", data={"title": "Adem", "minutes": "x", "extra": "1"})
    assert answer.json()["values"] == {
        "title": "Adem",
        "minutes": "x",
        "free_preview": "",
        "lesson_slug": "",
    }
    assert set(answer.json()["errors"]) == {"minutes"}


class ChoicesForm(Form):
    weekdays: list[str] = Field(default_factory=list)
    next: Annotated[str, AfterValidator(lambda path: path if path.startswith("/") else "/")] = ""
    minutes: int = 5

    tidy = frozenset({"next"})


def test_an_input_sent_more_than_once_is_read_as_every_value_it_had() -> None:
    app = FastAPI()

    @app.post("/choose")
    def choose(form: Annotated[Posted[ChoicesForm], posted(ChoicesForm)]) -> dict[str, object]:
        return {"weekdays": form.valid().weekdays, "values": form.values}

    with TestClient(app) as client:
        answer = client.post("/choose", data={"weekdays": ["0", "3"], "minutes": "5"})
        none = client.post("/choose", data={"minutes": "5"})
    assert answer.json()["weekdays"] == ["0", "3"]
    assert answer.json()["values"]["weekdays"] == ["0", "3"]
    assert none.json()["weekdays"] == []


def test_a_tidy_input_is_shown_as_read_even_when_another_input_is_wrong() -> None:
    posted_form = parse(ChoicesForm, {"next": "https://elders.example/", "minutes": "vijf"})
    assert posted_form.form is None
    assert posted_form.values["next"] == "/"
    assert posted_form.values["minutes"] == "vijf"


def test_shown_with_a_prefix_names_the_inputs_of_one_form_among_several() -> None:
    posted_form = parse(LessonForm, {**TYPED, "title": ""})
    shown = posted_form.shown(prefix="module-3-")
    assert shown["errors"] == {"module-3-title": posted_form.errors["title"]}
    assert shown["values"]["module-3-lesson_slug"] == "adem"
    assert "module-3-password" not in shown["values"]


def test_invalid_answers_a_conflict_with_its_own_status() -> None:
    page = invalid(Conflict("Elders gewijzigd."), HTMLResponse("<p>form</p>"))
    assert page.status_code == 409


def test_an_input_missing_from_the_request_takes_its_fields_default() -> None:
    app = FastAPI()

    @app.post("/choose")
    def choose(form: Annotated[Posted[ChoicesForm], posted(ChoicesForm)]) -> dict[str, object]:
        return {"minutes": form.valid().minutes, "values": form.values}

    with TestClient(app) as client:
        answer = client.post("/choose", data={"next": "/today"}).json()
    assert answer["minutes"] == 5
    assert answer["values"]["minutes"] == ""
