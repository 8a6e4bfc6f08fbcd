"""The mail "A new learner in your course": the instructor hears of every new enrolment, free
or bought, in her own language, with the link to her learners; not of access she gave by hand
herself, not of access given back, and not once she turned these mails off."""

from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentStatus
from api.reminders.models import MailPreference
from tests.factories import enable_totp, log_in, make_course, make_user, post_form
from tests.payments.conftest import Shop
from tests.smtp import Mailbox, links_in, text_of


def to(mailbox: Mailbox, person: User) -> list[EmailMessage]:
    """The messages the SMTP server received for this person."""
    return [message for message in mailbox.messages if message["To"] == person.email]


@pytest.fixture
def tessa(session: Session) -> User:
    """An instructor who reads Kern in English."""
    return make_user(session, name="Tessa", role=Role.instructor, language="en")


@pytest.fixture
def course(session: Session, tessa: User) -> Course:
    return make_course(session, instructor=tessa)


@pytest.fixture
def alice(session: Session) -> User:
    """A learner who reads Kern in Dutch."""
    return make_user(session, name="Alice de Vries", language="nl")


def enrol_free(client: TestClient, learner: User, course: Course) -> None:
    """She signs in and presses the enrol button on the course page."""
    log_in(client, learner)
    response = post_form(client, f"/courses/{course.slug}/enrol")
    assert response.status_code == 303, response.text[:300]


def test_a_free_enrolment_is_mailed_to_the_instructor_in_her_language(
    client: TestClient, mailbox: Mailbox, course: Course, tessa: User, alice: User
) -> None:
    enrol_free(client, alice, course)

    [message] = mailbox.wait_for(1)
    assert message["To"] == tessa.email
    assert message["Subject"] == f"A new learner in {course.title}"
    assert "Alice" not in str(message["Subject"])  # phones show subjects on the lock screen
    text = text_of(message)
    assert text.startswith("Hello Tessa,")  # hers is English, Alice's Dutch
    assert f"Alice de Vries is now enrolled in your course {course.title}." in text
    assert "She enrolled in the free course herself." in text
    assert alice.email not in text
    learners, stop = links_in(message)[:2]
    assert learners == f"http://testserver/studio/courses/{course.slug}/learners"
    assert message["List-Unsubscribe"] == f"<{stop}>"
    assert "/unsubscribe/" in stop


def test_a_dutch_instructor_reads_it_in_dutch(
    session: Session, client: TestClient, mailbox: Mailbox, alice: User
) -> None:
    noor = make_user(session, name="Noor", role=Role.instructor, language="nl")
    enrol_free(client, alice, make_course(session, instructor=noor))

    [message] = mailbox.wait_for(1)
    assert message["To"] == noor.email
    assert text_of(message).startswith("Hallo Noor,")


def test_the_learners_link_opens_her_learners_page(
    session: Session, client: TestClient, mailbox: Mailbox, course: Course, tessa: User
) -> None:
    enrol_free(client, make_user(session, name="Bea Bakker"), course)
    [message] = mailbox.wait_for(1)
    client.cookies.clear()

    log_in(client, tessa, secret=enable_totp(session, tessa))
    page = client.get(links_in(message)[0].removeprefix("http://testserver"))

    assert page.status_code == 200
    assert "Bea Bakker" in page.text


def test_a_purchase_is_mailed_to_the_instructor_once(shop: Shop, mailbox: Mailbox) -> None:
    instructor = shop.session.get(User, shop.course.instructor_id)
    assert instructor is not None
    instructor.language = "en"
    shop.session.add(instructor)
    # The payment tests' shop keeps the instructor's notices off; this one is about them.
    preference = shop.session.get(MailPreference, instructor.id)
    assert preference is not None
    preference.new_enrolment = True
    shop.session.add(preference)
    shop.session.flush()
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    # The success page and the webhook (twice) all fulfil the same payment.
    shop.back_from_stripe(session_id)
    shop.deliver(events, times=2)
    shop.back_from_stripe(session_id)

    mailbox.wait_for(2)  # her receipt and the instructor's notice
    [message] = to(mailbox, instructor)
    assert "Alice de Vries is now enrolled" in text_of(message)
    assert "She bought the course." in text_of(message)
    assert len(mailbox.messages) == 2


def test_access_she_gives_by_hand_herself_is_not_mailed_to_her(
    session: Session, client: TestClient, mailbox: Mailbox, course: Course, tessa: User
) -> None:
    learner = make_user(session, email="bea@example.nl")
    log_in(client, tessa, secret=enable_totp(session, tessa))

    response = post_form(
        client,
        f"/studio/courses/{course.slug}/learners",
        {"email": "bea@example.nl", "note": "paid by bank transfer"},
    )

    assert response.status_code == 303, response.text[:300]
    assert enrolment_service.find(session, user_id=learner.id, course_id=course.id) is not None
    assert mailbox.messages == []


def test_access_an_admin_gives_by_hand_is_mailed_to_the_instructor(
    *,
    session: Session,
    settings: Settings,
    mailbox: Mailbox,
    course: Course,
    tessa: User,
    alice: User,
) -> None:
    admin = make_user(session, role=Role.admin)

    enrolment_service.grant_manually(
        session, course=course, learner=alice, by=admin, note="voucher", settings=settings
    )

    [message] = mailbox.wait_for(1)
    assert message["To"] == tessa.email
    assert "She was given access by hand." in text_of(message)
    assert "voucher" not in text_of(message)  # a note can say anything; it stays in the studio


def test_access_given_back_is_not_news(
    *,
    session: Session,
    settings: Settings,
    mailbox: Mailbox,
    course: Course,
    tessa: User,
    alice: User,
) -> None:
    admin = make_user(session, role=Role.admin)
    enrolment = enrolment_service.enrol_free(session, user=alice, course=course, settings=settings)
    assert len(mailbox.wait_for(1)) == 1
    enrolment_service.set_status(session, enrolment=enrolment, status=EnrolmentStatus.refunded)

    enrolment_service.grant_manually(
        session, course=course, learner=alice, by=admin, note="refund undone", settings=settings
    )

    assert enrolment.is_active
    assert len(mailbox.messages) == 1


def test_no_mail_once_she_turned_these_mails_off(
    session: Session, client: TestClient, mailbox: Mailbox, course: Course, tessa: User
) -> None:
    session.add(MailPreference(user_id=tessa.id or 0, new_enrolment=False))
    session.flush()

    enrol_free(client, make_user(session), course)

    assert mailbox.messages == []


def test_enrolling_in_her_own_course_is_not_mailed(
    session: Session, settings: Settings, mailbox: Mailbox, course: Course, tessa: User
) -> None:
    enrolment_service.enrol_free(session, user=tessa, course=course, settings=settings)

    assert mailbox.messages == []


def test_without_settings_nothing_is_mailed(
    session: Session, mailbox: Mailbox, course: Course, alice: User
) -> None:
    # The seed gives the demo learner her courses this way.
    enrolment_service.enrol_free(session, user=alice, course=course)

    assert mailbox.messages == []
