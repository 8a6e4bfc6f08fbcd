"""The weekly attention summary: on Monday morning (Amsterdam) each instructor with learners
waiting gets one mail with the counts per reason and a link to the list, never a name or a
health detail; once a week however often the worker looks; not when she switched it off; not
when nothing waits; admins count every course."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.attention.summary import queue_attention_summaries
from api.config import Settings
from api.kit.ids import id_of
from api.mail.models import OutboxMessage
from api.mail.unsubscribe import Topic, read_token
from api.questionnaires.models import Measurement
from api.reminders import service as preferences
from tests.factories import enable_totp, log_in, make_course, make_user
from tests.questionnaires.checkin_factories import enrol_at, make_questionnaire

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=AMSTERDAM)


def summaries(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == "attention_summary")
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def waiting_learner(session: Session, teacher: User, *, name: str = "Anna Geheim") -> User:
    """A learner of the teacher's course, quiet for ten days, who reported a warning sign."""
    course = make_course(session, instructor=teacher)
    learner = make_user(session, name=name)
    enrol_at(session, learner, course, MONDAY - timedelta(days=20))
    session.add(
        Measurement(
            user_id=id_of(learner),
            questionnaire_id=id_of(
                make_questionnaire(session, course, slug=f"check-{course.slug}")
            ),
            course_id=id_of(course),
            occasion="test:warning",
            score=9,
            warning=True,
            taken_at=MONDAY - timedelta(days=10),
        )
    )
    session.flush()
    return learner


def test_monday_morning_brings_one_summary_with_counts_and_no_names(
    session: Session, settings: Settings
) -> None:
    teacher = make_user(session, name="Tessa", role=Role.instructor)
    waiting_learner(session, teacher)

    assert queue_attention_summaries(session, settings, now=MONDAY) == 1

    (mail,) = summaries(session)
    assert mail.recipient == teacher.email
    assert mail.subject == "Je aandachtslijst deze week"
    text = mail.text_body or ""
    assert "Deze week heeft 1 deelnemer op je aandachtslijst" in text
    assert "- Niet actief: 1" in text
    assert "- Alarmsignaal gemeld: 1" in text
    assert "http://testserver/studio/attention" in text
    assert "Anna" not in text
    assert "Geheim" not in text
    assert "Anna" not in (mail.html_body or "")
    assert mail.unsubscribe_url is not None
    token = mail.unsubscribe_url.rsplit("/", 1)[1]
    link = read_token(settings, token)
    assert link is not None
    assert (link.user_id, link.topic) == (teacher.id, Topic.attention)


def test_the_summary_goes_once_a_week(session: Session, settings: Settings) -> None:
    teacher = make_user(session, role=Role.instructor)
    waiting_learner(session, teacher)
    assert queue_attention_summaries(session, settings, now=MONDAY) == 1
    assert queue_attention_summaries(session, settings, now=MONDAY + timedelta(hours=3)) == 0
    # Not on another day, nor before seven on Monday.
    assert queue_attention_summaries(session, settings, now=MONDAY + timedelta(days=1)) == 0
    early = MONDAY + timedelta(days=7) - timedelta(hours=2)
    assert queue_attention_summaries(session, settings, now=early) == 0
    assert queue_attention_summaries(session, settings, now=MONDAY + timedelta(days=7)) == 1
    assert len(summaries(session)) == 2


def test_no_summary_when_she_switched_it_off(session: Session, settings: Settings) -> None:
    teacher = make_user(session, role=Role.instructor)
    waiting_learner(session, teacher)
    preferences.save(
        session,
        user=teacher,
        weekdays=[],
        times=[],
        module_opened=True,
        new_enrolment=True,
        attention_summary=False,
        now=MONDAY - timedelta(days=1),
    )
    assert queue_attention_summaries(session, settings, now=MONDAY) == 0
    assert summaries(session) == []


def test_no_summary_when_nothing_waits(session: Session, settings: Settings) -> None:
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=teacher)
    enrol_at(session, make_user(session), course, MONDAY - timedelta(days=1))
    assert queue_attention_summaries(session, settings, now=MONDAY) == 0
    assert summaries(session) == []


def test_each_instructor_counts_her_own_and_an_admin_all(
    session: Session, settings: Settings
) -> None:
    tessa = make_user(session, role=Role.instructor)
    olga = make_user(session, role=Role.instructor)
    admin = make_user(session, role=Role.admin)
    waiting_learner(session, tessa)
    waiting_learner(session, olga, name="Bea")
    waiting_learner(session, olga, name="Cor")
    assert queue_attention_summaries(session, settings, now=MONDAY) == 3
    texts = {mail.recipient: mail.text_body or "" for mail in summaries(session)}
    assert "heeft 1 deelnemer" in texts[tessa.email]
    assert "hebben 2 deelnemers" in texts[olga.email]
    assert "hebben 3 deelnemers" in texts[admin.email]


def test_the_mail_page_offers_the_choice_to_instructors(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, role=Role.instructor)
    log_in(client, teacher, secret=enable_totp(session, teacher))
    page = client.get("/account/mail").text
    assert 'name="attention_summary" value="on" checked' in page


def test_the_link_in_the_mail_stops_the_summary(
    client: TestClient, session: Session, settings: Settings
) -> None:
    teacher = make_user(session, role=Role.instructor)
    waiting_learner(session, teacher)
    queue_attention_summaries(session, settings, now=MONDAY)
    (mail,) = summaries(session)
    assert mail.unsubscribe_url is not None
    path = mail.unsubscribe_url.removeprefix("http://testserver")

    page = client.get(path).text
    assert "Stoppen met het wekelijkse aandachtsoverzicht?" in page
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    session.expire_all()
    assert preferences.get(session, user_id=id_of(teacher)).attention_summary is False
    later = MONDAY + timedelta(days=7)
    assert queue_attention_summaries(session, settings, now=later) == 0
