"""Questionnaires and check-ins in the studio: writing one part by part, its problems, publishing,
two tabs, deleting, the self-test's counts, and the course's check-ins.

Ingrid teaches; Olga is another instructor. Everyone reads the English texts.
"""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, CourseStatus
from api.clock import current_time
from api.kit.ids import id_of
from api.questionnaires import service as questionnaire_service
from api.questionnaires.models import CheckIn, Measurement, Questionnaire, SelfTestTally
from tests.catalog.test_pages_queries import recording
from tests.factories import csrf_token, enable_totp, field_error, log_in, make_course, make_user
from tests.factories import post_form as post
from tests.questionnaires import test_definition


def pain_test(**changes: Any) -> Any:
    """The core's pain test, its bands recommending none of Ingrid's courses but sterke-basis."""
    bands = [
        {"min": 0, "max": 7, "title": "Licht"},
        {"min": 8, "max": 17, "title": "Matig", "course": "sterke-basis"},
        {"min": 18, "max": 26, "title": "Veel"},
    ]
    return test_definition.pain_test(**{"bands": bands, **changes})


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def ingrid(session: Session) -> User:
    return make_user(session, name="Ingrid Docent", role=Role.instructor, language="en")


@pytest.fixture
def studio(client: TestClient, session: Session, ingrid: User) -> TestClient:
    """Ingrid's browser, signed in with her second factor."""
    log_in(client, ingrid, secret=enable_totp(session, ingrid))
    return client


@pytest.fixture
def course(session: Session, ingrid: User) -> Course:
    return make_course(session, instructor=ingrid, slug="sterke-basis", status=CourseStatus.draft)


def add_questionnaire(
    session: Session, course: Course, *, slug: str = "pijntest", **fields: Any
) -> Questionnaire:
    """A stored questionnaire of the course: the pain test of the core's tests, without problems."""
    values = {
        "title": "Pijntest",
        "status": "draft",
        "definition": questionnaire_service.stored_definition(pain_test()),
        **fields,
    }
    questionnaire = Questionnaire(course_id=id_of(course), slug=slug, **values)
    session.add(questionnaire)
    session.flush()
    return questionnaire


def url_of(course: Course, questionnaire: Questionnaire) -> str:
    return f"/studio/courses/{course.slug}/questionnaires/{questionnaire.id}"


def reloaded(session: Session, questionnaire: Questionnaire) -> Questionnaire:
    session.expire_all()
    row = session.get(Questionnaire, questionnaire.id)
    assert row is not None
    return row


def problems_on(html: str) -> list[str]:
    """The problems the page lists, as (anchor, message) texts."""
    block = re.search(r'<div class="q-problems".*?</ul>', html, re.S)
    if block is None:
        return []
    return [
        f"#{anchor} {text}"
        for anchor, text in re.findall(r'<li><a href="#([\w-]+)">([^<]*)</a></li>', block.group(0))
    ]


def test_a_new_questionnaire_is_a_draft_whose_problems_say_what_to_do(
    studio: TestClient, session: Session, course: Course
) -> None:
    response = post(studio, f"/studio/courses/{course.slug}/questionnaires", {"title": "Pijntest"})

    assert response.status_code == 303
    row = session.exec(select(Questionnaire)).one()
    assert (row.slug, row.title, row.status, row.language) == (
        "pijntest",
        "Pijntest",
        "draft",
        "nl",
    )
    assert response.headers["location"] == f"{url_of(course, row)}?notice=created#settings"
    page = studio.get(url_of(course, row))
    assert problems_on(page.text) == [
        "#items Add at least one question.",
        "#bands Add at least one band for the result.",
    ]
    listed = studio.get(f"/studio/courses/{course.slug}")
    assert f'href="{url_of(course, row)}">Pijntest</a>' in listed.text
    assert "2 problems" in listed.text


def test_a_new_questionnaire_needs_a_title(
    studio: TestClient, session: Session, course: Course
) -> None:
    response = post(studio, f"/studio/courses/{course.slug}/questionnaires", {"title": "  "})

    assert response.status_code == 422
    assert (
        field_error(response.text, "new-questionnaire-title") == "Give the questionnaire a title."
    )
    assert session.exec(select(Questionnaire)).all() == []


def test_she_writes_a_questionnaire_part_by_part_and_publishes_it(
    studio: TestClient, session: Session, course: Course
) -> None:
    post(studio, f"/studio/courses/{course.slug}/questionnaires", {"title": "Bekkenbodem"})
    row = session.exec(select(Questionnaire)).one()
    url = url_of(course, row)

    def send(path: str, data: dict[str, Any]) -> None:
        version = str(reloaded(session, row).version)
        response = studio.post(
            url + path,
            data={"csrf_token": csrf_token(studio), "version": version, **data},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:2000]

    send("/items", {"kind": "scale", "text": "Hoeveel last had je?"})
    send("/items", {"kind": "single", "text": "Hoe vaak verloor je urine?"})
    send(
        "/items/1",
        {
            "key": "hoe-vaak",
            "text": "Hoe vaak verloor je urine?",
            "option_label": ["Nooit", "Soms", "Elke dag", ""],
            "option_points": ["0", "1", "3", ""],
        },
    )
    send("/items", {"kind": "warning", "text": "Had je koorts?"})
    send("/items/2/move", {"direction": "up"})
    send("/subscores", {"title": "Lekken", "items": ["hoe-vaak"]})
    send("/bands", {"min": "0", "max": "6", "title": "Weinig last"})
    send("/bands", {"min": "7", "max": "13", "title": "Veel last", "course": course.slug})
    send(
        "",
        {
            "title": "Bekkenbodem",
            "slug": "",
            "language": "nl",
            "scoring": "sum",
            "better": "lower",
            "meaningful_change": "2,5",
            "self_test": "on",
            "intro": "Hallo",
        },
    )
    send("/status", {"status": "published"})

    row = reloaded(session, row)
    definition = questionnaire_service.definition_of(row)
    assert row.status == "published"
    assert row.self_test is True
    assert [item.key for item in definition.items] == [
        "hoeveel-last-had-je",
        "had-je-koorts",
        "hoe-vaak",
    ]
    assert [(o.label, o.points) for o in definition.items[2].options] == [  # type: ignore[union-attr]
        ("Nooit", 0),
        ("Soms", 1),
        ("Elke dag", 3),
    ]
    assert definition.subscores[0].items == ["hoe-vaak"]
    assert [(str(b.min), str(b.max), b.course) for b in definition.bands] == [
        ("0", "6", None),
        ("7", "13", "sterke-basis"),
    ]
    assert str(definition.meaningful_change) == "2.5"
    assert definition.problems() == []


def test_a_new_key_is_followed_by_its_sub_scores(
    studio: TestClient, session: Session, course: Course
) -> None:
    subscores = [{"key": "nu", "title": "Nu", "items": ["pain-now"]}]
    definition = questionnaire_service.stored_definition(pain_test(subscores=subscores))
    questionnaire = add_questionnaire(session, course, definition=definition)
    item = questionnaire_service.definition_of(questionnaire).items[0]

    response = post(
        studio,
        url_of(course, questionnaire) + "/items/0",
        {
            "version": str(questionnaire.version),
            "key": "pijn-nu",
            "text": item.text,
            "min_label": "Geen",
            "max_label": "Ergst",
        },
    )

    assert response.status_code == 303, response.text[:1000]
    saved = questionnaire_service.definition_of(reloaded(session, questionnaire))
    assert saved.items[0].key == "pijn-nu"
    assert saved.subscores[0].items == ["pijn-nu"]


def test_a_wrong_question_is_shown_again_as_typed_with_its_message(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course)
    index = next(
        i
        for i, item in enumerate(questionnaire_service.definition_of(questionnaire).items)
        if item.kind == "single"
    )
    response = studio.post(
        url_of(course, questionnaire) + f"/items/{index}",
        data={
            "csrf_token": csrf_token(studio),
            "version": str(questionnaire.version),
            "key": "Hoe Lang!",
            "text": "Hoe lang al?",
            "option_label": ["Kort", ""],
            "option_points": ["veel", "2"],
        },
        follow_redirects=False,
    )

    assert response.status_code == 422
    assert "use a-z, 0-9 and single hyphens" in (
        field_error(response.text, f"item-{index}-key") or ""
    )
    assert "Give every option a text." in response.text
    assert 'value="Hoe Lang!"' in response.text
    assert 'value="veel"' in response.text
    assert reloaded(session, questionnaire).version == questionnaire.version


def test_publishing_is_refused_while_there_are_problems(
    studio: TestClient, session: Session, course: Course
) -> None:
    definition = pain_test()
    bands = definition.model_copy(update={"bands": definition.bands[:1]})
    questionnaire = add_questionnaire(
        session, course, definition=questionnaire_service.stored_definition(bands)
    )

    response = post(
        studio,
        url_of(course, questionnaire) + "/status",
        {"status": "published", "version": str(questionnaire.version)},
    )

    assert response.status_code == 409
    assert "This questionnaire has 1 problem; solve it before you publish." in response.text
    assert problems_on(response.text) == ["#bands No band covers the scores 8–26."]
    assert reloaded(session, questionnaire).status == "draft"


def test_a_band_recommending_a_course_that_is_not_hers_is_a_problem(
    studio: TestClient, session: Session, course: Course
) -> None:
    theirs = make_course(session, instructor=make_user(session, role=Role.instructor))
    definition = pain_test()
    bands = [
        band.model_copy(update={"course": theirs.slug}) if i == 0 else band
        for i, band in enumerate(definition.bands)
    ]
    changed = questionnaire_service.stored_definition(
        definition.model_copy(update={"bands": bands})
    )
    questionnaire = add_questionnaire(session, course, definition=changed)

    page = studio.get(url_of(course, questionnaire))

    assert problems_on(page.text) == [
        f"#band-0 This band recommends {theirs.slug}, which is not one of your courses; "
        "choose another."
    ]


def test_a_save_from_an_older_tab_is_refused_and_changes_nothing(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course)
    opened = str(questionnaire.version)
    first = post(
        studio,
        url_of(course, questionnaire) + "/bands/0/delete",
        {"version": opened, "confirm": "yes"},
    )
    assert first.status_code == 303
    saved = reloaded(session, questionnaire)

    second = post(
        studio,
        url_of(course, questionnaire) + "/items/0/delete",
        {"version": opened, "confirm": "yes"},
    )

    assert second.status_code == 409
    assert "This questionnaire has been changed elsewhere in the meantime" in second.text
    after = reloaded(session, questionnaire)
    assert after.version == saved.version
    assert len(questionnaire_service.definition_of(after).items) == len(pain_test().items)


def test_a_published_questionnaire_keeps_without_problems(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course, status="published")

    response = post(
        studio,
        url_of(course, questionnaire) + "/items",
        {"version": str(questionnaire.version), "kind": "single", "text": "Nieuw?"},
    )

    assert response.status_code == 409
    assert "A published questionnaire must stay without problems" in response.text
    assert 'value="Nieuw?"' in response.text
    assert len(questionnaire_service.definition_of(reloaded(session, questionnaire)).items) == 6


def test_deleting_is_refused_while_check_ins_use_it_or_it_was_filled_in(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course)
    check_in = CheckIn(course_id=id_of(course), questionnaire_id=id_of(questionnaire), moment="end")
    session.add(check_in)
    session.flush()
    url = url_of(course, questionnaire) + "/delete"

    used = post(studio, url, {"confirm": "yes"})
    assert used.status_code == 409
    assert "1 check-in of the course uses it; delete that check-in first." in used.text

    session.delete(check_in)
    session.add(
        Measurement(
            user_id=id_of(make_user(session)),
            questionnaire_id=id_of(questionnaire),
            occasion="self-test:x",
            score=3,
        )
    )
    session.flush()
    answered = post(studio, url, {"confirm": "yes"})
    assert answered.status_code == 409
    assert "It has been filled in 1 time" in answered.text
    assert session.get(Questionnaire, questionnaire.id) is not None


def test_an_unused_questionnaire_is_deleted_with_its_counts(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course, self_test=True)
    session.add(
        SelfTestTally(
            questionnaire_id=id_of(questionnaire),
            week=date(2026, 11, 30),
            band_index=0,
            warning=False,
            count=3,
        )
    )
    session.flush()

    response = post(studio, url_of(course, questionnaire) + "/delete", {"confirm": "yes"})

    assert response.status_code == 303
    assert response.headers["location"].endswith("?notice=questionnaire-deleted#questionnaires")
    assert session.exec(select(Questionnaire)).all() == []
    assert session.exec(select(SelfTestTally)).all() == []


def test_a_self_test_shows_its_anonymous_counts_per_band_and_week(
    app: FastAPI, studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course, self_test=True)
    for week, band, warning, count in [
        (date(2026, 11, 30), 0, False, 4),
        (date(2026, 11, 30), 1, False, 2),
        (date(2026, 11, 30), 1, True, 1),
        (date(2026, 11, 23), 2, False, 5),
        (date(2026, 8, 3), 0, False, 9),  # longer ago than 12 weeks
    ]:
        session.add(
            SelfTestTally(
                questionnaire_id=id_of(questionnaire),
                week=week,
                band_index=band,
                warning=warning,
                count=count,
            )
        )
    session.flush()

    async def thursday() -> datetime:
        return datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    app.dependency_overrides[current_time] = thursday
    try:
        page = studio.get(url_of(course, questionnaire))
    finally:
        del app.dependency_overrides[current_time]

    assert "In the last 12 weeks the self-test was taken 12 times." in page.text
    rows = re.findall(r"<tr>\s*<th scope=\"row\">([^<]*)</th>(.*?)</tr>", page.text, re.S)
    cells = {day: re.findall(r"<td>(\d+)</td>", rest) for day, rest in rows}
    assert len(cells) == 12
    bands = len(pain_test().bands)
    assert cells["30 November 2026"] == ["4", "2"] + ["0"] * (bands - 2) + ["1", "7"]
    assert cells["23 November 2026"] == ["0", "0", "5"] + ["0"] * (bands - 3) + ["0", "5"]


def test_the_questionnaire_page_costs_the_same_statements_for_any_size(
    studio: TestClient, session: Session, connection: Connection, course: Course
) -> None:
    small = add_questionnaire(session, course, slug="klein")
    definition = pain_test()
    many = definition.model_copy(
        update={
            "items": [
                *definition.items,
                *[
                    item.model_copy(update={"key": f"extra-{n}"})
                    for n in range(8)
                    for item in definition.items[:1]
                ],
            ]
        }
    )
    large = add_questionnaire(
        session,
        course,
        slug="groot",
        self_test=True,
        definition=questionnaire_service.stored_definition(many),
    )
    counts = []
    for questionnaire in (small, large):
        studio.get(url_of(course, questionnaire))  # parse once, as any page after a save does
        with recording(connection) as seen:
            response = studio.get(url_of(course, questionnaire))
        assert response.status_code == 200
        counts.append(len(seen))
    # Her session, the course, the questionnaire, her courses, its use; the self-test's counts.
    assert counts[1] == counts[0] + 1
    assert counts[0] <= 7


# --- the course's check-ins -----------------------------------------------------------------


def check_ins_of(session: Session, course: Course) -> list[tuple[str, int | None, int | None]]:
    rows = session.exec(
        select(CheckIn).where(CheckIn.course_id == course.id).order_by(col(CheckIn.position))
    ).all()
    return [(row.moment, row.module_position, row.every_days) for row in rows]


def test_she_adds_moves_and_deletes_check_ins(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course)
    url = f"/studio/courses/{course.slug}/check-ins"
    q = str(questionnaire.id)
    for data in (
        {"questionnaire": q, "moment": "enrolment"},
        {"questionnaire": q, "moment": "module", "module": "2"},
        {"questionnaire": q, "moment": "every", "days": "14"},
    ):
        assert post(studio, url, data).status_code == 303
    assert check_ins_of(session, course) == [
        ("enrolment", None, None),
        ("module", 1, None),
        ("every", None, 14),
    ]
    page = studio.get(f"/studio/courses/{course.slug}")
    assert "After module 2" in page.text
    assert "Every 14 days" in page.text

    last = session.exec(select(CheckIn).where(CheckIn.moment == "every")).one()
    moved = post(studio, f"{url}/{last.id}/move", {"direction": "up"})
    assert moved.headers["location"] == f"/studio/courses/{course.slug}?focus=check-in-{last.id}-up"
    assert post(studio, f"{url}/{last.id}/delete", {"confirm": "yes"}).status_code == 303

    session.expire_all()
    assert check_ins_of(session, course) == [("enrolment", None, None), ("module", 1, None)]


def test_a_wrong_check_in_is_refused_at_its_fields(
    studio: TestClient, session: Session, course: Course
) -> None:
    theirs = add_questionnaire(
        session,
        make_course(session, instructor=make_user(session, role=Role.instructor)),
        slug="van-olga",
    )
    url = f"/studio/courses/{course.slug}/check-ins"
    add_questionnaire(session, course)

    other = post(studio, url, {"questionnaire": str(theirs.id), "moment": "end"})
    module = post(studio, url, {"questionnaire": "", "moment": "module", "module": "3"})
    days = post(studio, url, {"questionnaire": "", "moment": "every", "days": "400"})

    assert other.status_code == module.status_code == days.status_code == 422
    expected = "Choose one of the course's questionnaires."
    assert field_error(other.text, "check-in-questionnaire") == expected.replace("'", "&#39;")
    assert field_error(module.text, "check-in-module") == "Enter a whole number from 1 to 2."
    assert field_error(days.text, "check-in-days") == "Enter a whole number from 1 to 365."
    assert session.exec(select(CheckIn)).all() == []


# --- deleting the course --------------------------------------------------------------------


def test_a_course_whose_questionnaire_was_filled_in_is_not_deleted(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course, self_test=True)
    # A stranger kept her self-test result: no enrolment, no progress, only the measurement.
    session.add(
        Measurement(
            user_id=id_of(make_user(session)),
            questionnaire_id=id_of(questionnaire),
            occasion="self-test:abc",
            score=12,
        )
    )
    session.flush()

    page = studio.get(f"/studio/courses/{course.slug}/delete")
    response = post(studio, f"/studio/courses/{course.slug}/delete", {"confirm": "yes"})

    assert "Its questionnaires have been filled in; those answers are kept." in page.text
    assert response.status_code == 409
    assert session.get(Course, course.id) is not None


def test_a_course_with_unused_questionnaires_and_check_ins_is_deleted_with_them(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course)
    session.add(
        CheckIn(course_id=id_of(course), questionnaire_id=id_of(questionnaire), moment="enrolment")
    )
    session.flush()

    response = post(studio, f"/studio/courses/{course.slug}/delete", {"confirm": "yes"})

    assert response.status_code == 303
    assert session.exec(select(Questionnaire)).all() == []
    assert session.exec(select(CheckIn)).all() == []


def test_another_courses_questionnaire_is_not_found_here(
    studio: TestClient, session: Session, course: Course, ingrid: User
) -> None:
    other = make_course(session, instructor=ingrid)
    questionnaire = add_questionnaire(session, other)

    assert studio.get(url_of(course, questionnaire)).status_code == 404
    assert studio.get(url_of(other, questionnaire)).status_code == 200


def test_a_status_no_button_sends_is_refused_with_a_message(
    studio: TestClient, session: Session, course: Course
) -> None:
    questionnaire = add_questionnaire(session, course)

    response = post(
        studio,
        url_of(course, questionnaire) + "/status",
        {"status": "archived", "version": str(questionnaire.version)},
    )

    assert response.status_code == 422
    assert '<div class="form-error" role="alert"><p>Choose publish or draft.</p></div>' in (
        response.text
    )
    assert reloaded(session, questionnaire).status == "draft"
