"""Storing what she answered: once per occasion, only with her consent; the self-test's tally."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from api.consent.service import ConsentRequired
from api.kit.ids import id_of
from api.questionnaires import service
from api.questionnaires.models import Measurement, Questionnaire, SelfTestTally
from api.questionnaires.scoring import read_answers, score
from tests.factories import agree_to_health_data, make_course, make_user
from tests.questionnaires.test_definition import pain_test

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # a Thursday


def make_questionnaire(session: Session) -> Questionnaire:
    course = make_course(session)
    questionnaire = Questionnaire(
        course_id=id_of(course),
        slug="pijntest",
        title="Pijntest",
        status="published",
        self_test=True,
        definition=service.stored_definition(pain_test()),
    )
    session.add(questionnaire)
    session.flush()
    return questionnaire


def test_a_double_submit_stores_one_measurement_and_returns_the_first(session: Session) -> None:
    questionnaire = make_questionnaire(session)
    user = agree_to_health_data(session, make_user(session))
    definition = service.definition_of(questionnaire)
    first_answers, _ = read_answers(
        definition, {"pain-now": "7", "pain-week": "6", "how-long": "1", "bladder": "no"}
    )
    second_answers, _ = read_answers(
        definition, {"pain-now": "2", "pain-week": "2", "how-long": "1", "bladder": "no"}
    )

    for answers in (first_answers, second_answers):
        stored = service.record(
            session,
            user=user,
            questionnaire=questionnaire,
            answers=answers,
            result=score(definition, answers),
            occasion="c1:q1:enrolment",
            course_id=questionnaire.course_id,
            now=NOW,
        )

    rows = session.exec(select(Measurement)).all()
    assert len(rows) == 1
    assert stored.id == rows[0].id
    assert rows[0].score == 15
    assert rows[0].subscores == {"pain": 13}
    assert rows[0].band_title == "Matig"
    assert rows[0].answers["pain-now"] == 7


def test_nothing_is_stored_without_her_consent(session: Session) -> None:
    questionnaire = make_questionnaire(session)
    definition = service.definition_of(questionnaire)
    answers, _ = read_answers(
        definition, {"pain-now": "1", "pain-week": "1", "how-long": "0", "bladder": "no"}
    )

    with pytest.raises(ConsentRequired):
        service.record(
            session,
            user=make_user(session),
            questionnaire=questionnaire,
            answers=answers,
            result=score(definition, answers),
            occasion="self-test:x",
            course_id=None,
            now=NOW,
        )
    assert session.exec(select(Measurement)).all() == []


def test_the_tally_counts_results_per_band_and_week_only(session: Session) -> None:
    questionnaire = make_questionnaire(session)
    definition = service.definition_of(questionnaire)
    light, _ = read_answers(
        definition, {"pain-now": "1", "pain-week": "1", "how-long": "0", "bladder": "no"}
    )
    warning, _ = read_answers(
        definition, {"pain-now": "1", "pain-week": "1", "how-long": "0", "bladder": "yes"}
    )

    for answers in (light, light, warning):
        result = score(definition, answers)
        service.count_self_test(session, questionnaire=questionnaire, result=result, now=NOW)

    rows = session.exec(select(SelfTestTally).order_by(col(SelfTestTally.warning))).all()
    assert [(row.week, row.band_index, row.warning, row.count) for row in rows] == [
        (date(2026, 11, 30), 0, False, 2),
        (date(2026, 11, 30), 0, True, 1),
    ]
