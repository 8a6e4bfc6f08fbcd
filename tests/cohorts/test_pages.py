"""Cohorts as pages show them: the same choice of group wherever she can buy, and the studio's
groups."""

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog.models import Course
from api.clock import local_day, midnight
from api.cohorts import seats
from api.cohorts import service as cohorts
from api.cohorts.models import Cohort, CohortSeat, SeatStatus
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource, EnrolmentStatus
from api.errors import Conflict, FormError
from api.i18n import format_day
from tests.factories import WAIVER, enable_totp, log_in, make_course, make_user, post_form


def _course(session: Session) -> Course:
    course = make_course(session, price_cents=4900, drip_days=[0, 7])
    course.in_cohorts = True
    session.add(course)
    session.flush()
    return course


def _cohort(session: Session, course: Course, starts_on: date, **data: object) -> Cohort:
    fields = {"capacity": None, "opens_on": None, "closes_on": None, **data}
    return cohorts.create(
        session,
        course=course,
        data=cohorts.CohortInput(starts_on=starts_on, **fields),  # type: ignore[arg-type]
    )


def _offered_group(html: str) -> str | None:
    found = re.search(r'name="cohort" value="(\d+)"', html)
    return found.group(1) if found else None


def _groups(html: str) -> list[str]:
    """The course page's list of groups, as text."""
    found = re.search(r'<ul class="cohorts__list">(.*?)</ul>', html, re.S)
    assert found, "no groups shown"
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in found[1].split("</li>")]


def test_preview_and_locked_lessons_offer_the_same_group_as_the_course_page(
    client: TestClient, session: Session
) -> None:
    course = _course(session)
    today = local_day(utcnow())
    full = _cohort(session, course, today + timedelta(days=7), capacity=1)
    full.taken = 1
    closed = _cohort(session, course, today + timedelta(days=10), closes_on=today)
    closed.opens_on = today - timedelta(days=9)
    closed.closes_on = today - timedelta(days=1)
    following = _cohort(session, course, today + timedelta(days=21), capacity=8)
    session.add_all([full, closed])
    session.flush()
    log_in(client, make_user(session))

    pages = {
        url: client.get(url)
        for url in (
            f"/courses/{course.slug}",
            f"/courses/{course.slug}/lessons/les-1-1",  # the free preview
            f"/courses/{course.slug}/lessons/les-1-2",  # locked until she buys
        )
    }

    assert [page.status_code for page in pages.values()] == [200, 200, 403]
    for page in pages.values():
        assert _offered_group(page.text) == str(following.id)
        shown = _groups(page.text)
        assert "Vol" in shown[0]
        assert "Inschrijving gesloten" in shown[1]
        assert "8 plaatsen vrij" in shown[2]
    # Buying from the preview lesson's form holds her place in the group it offered.
    response = post_form(
        client, f"/courses/{course.slug}/checkout", {**WAIVER, "cohort": str(following.id)}
    )
    assert response.status_code == 303, response.text[:300]
    [seat] = session.exec(select(CohortSeat)).all()
    assert (seat.cohort_id, seat.status) == (following.id, SeatStatus.held)


def test_the_instructor_puts_a_learner_without_a_group_into_one(
    client: TestClient, session: Session
) -> None:
    course = _course(session)
    start = local_day(utcnow()) + timedelta(days=7)
    group = _cohort(session, course, start, capacity=1)
    by_hand = [make_user(session, name=name) for name in ("Hanna", "Ilse")]
    hanna, ilse = (
        enrolment_service.grant(
            session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
        )
        for user in by_hand
    )
    owner = session.get(User, course.instructor_id)
    assert owner is not None
    log_in(client, owner, secret=enable_totp(session, owner))
    url = f"/studio/courses/{course.slug}/cohorts/{group.id}"

    assert (
        "2 leerlingen hebben de cursus zonder groep"
        in client.get(f"/studio/courses/{course.slug}/cohorts").text
    )
    page = client.get(url)
    assert page.status_code == 200
    assert "Leerlingen zonder groep" in page.text
    assert page.text.count(f'name="enrolment" value="{hanna.id}"') == 1

    added = post_form(client, f"{url}/add", {"enrolment": str(hanna.id)})
    assert added.status_code == 303
    session.refresh(group)
    session.refresh(hanna)
    assert (group.taken, hanna.cohort_id, hanna.drip_from) == (1, group.id, midnight(start))
    # The group is full now: Ilse stays without a group, and the page says why.
    refused = post_form(client, f"{url}/add", {"enrolment": str(ilse.id)})
    assert refused.status_code == 422
    assert "Deze groep is vol." in refused.text
    session.refresh(group)
    session.refresh(ilse)
    assert (group.taken, ilse.cohort_id) == (1, None)
    assert [user.name for _, user in cohorts.without_group(session, course=course)] == ["Ilse"]


def test_only_a_learner_without_a_group_is_added(session: Session) -> None:
    course = _course(session)
    first = _cohort(session, course, local_day(utcnow()) + timedelta(days=7))
    second = _cohort(session, course, local_day(utcnow()) + timedelta(days=14))
    enrolment = enrolment_service.grant(
        session, user_id=make_user(session).id, course_id=course.id, source=EnrolmentSource.manual
    )
    seats.add(session, enrolment=enrolment, to=first)
    with pytest.raises(FormError):
        seats.add(session, enrolment=enrolment, to=second)
    enrolment.status = EnrolmentStatus.revoked
    enrolment.cohort_id = None
    with pytest.raises(FormError):
        seats.add(session, enrolment=enrolment, to=second)
    session.refresh(second)
    assert second.taken == 0


def test_an_empty_group_is_deleted_after_confirming_and_one_with_learners_is_not(
    client: TestClient, session: Session
) -> None:
    course = _course(session)
    today = local_day(utcnow())
    empty = _cohort(session, course, today + timedelta(days=7))
    kept = _cohort(session, course, today + timedelta(days=14))
    seats.add(
        session,
        enrolment=enrolment_service.grant(
            session, user_id=make_user(session).id, course_id=course.id,
            source=EnrolmentSource.manual,
        ),
        to=kept,
    )  # fmt: skip
    owner = session.get(User, course.instructor_id)
    assert owner is not None
    log_in(client, owner, secret=enable_totp(session, owner))
    base = f"/studio/courses/{course.slug}/cohorts"
    empty_id = empty.id

    assert "Ja, verwijderen" in client.get(f"{base}/{empty.id}").text
    unconfirmed = post_form(client, f"{base}/{empty.id}/delete")
    assert unconfirmed.status_code == 409
    assert session.get(Cohort, empty.id) is not None

    deleted = post_form(client, f"{base}/{empty.id}/delete", {"confirm": "yes"})
    assert deleted.status_code == 303
    assert "De groep is verwijderd." in client.get(deleted.headers["location"]).text
    session.expunge_all()
    assert session.get(Cohort, empty_id) is None

    assert "Ja, verwijderen" not in client.get(f"{base}/{kept.id}").text
    refused = post_form(client, f"{base}/{kept.id}/delete", {"confirm": "yes"})
    assert refused.status_code == 409
    assert "1 leerling zit erin" in html.unescape(refused.text)
    session.expire_all()
    assert session.get(Cohort, kept.id) is not None


def test_a_group_with_a_place_held_for_a_checkout_is_kept(session: Session) -> None:
    course = _course(session)
    cohort = _cohort(session, course, local_day(utcnow()) + timedelta(days=7))
    seats.hold(session, user=make_user(session), course=course, cohort_id=cohort.id, now=utcnow())
    with pytest.raises(Conflict):
        cohorts.delete_cohort(session, cohort=cohort)
    session.refresh(cohort)
    assert cohort.taken == 1


def test_after_buying_a_locked_lesson_says_when_her_group_starts(
    client: TestClient, session: Session
) -> None:
    course = _course(session)
    course.cohort_preparation = "Leg een **matje** klaar."
    start = local_day(utcnow()) + timedelta(days=7)
    group = _cohort(session, course, start)
    log_in(client, make_user(session))
    preview = client.get(f"/courses/{course.slug}/lessons/les-1-1")
    demo = post_form(
        client,
        f"/courses/{course.slug}/checkout",
        {**WAIVER, "cohort": _offered_group(preview.text) or ""},
    )
    assert demo.headers["location"].startswith("/checkout/demo/")
    paid = post_form(client, demo.headers["location"], follow=True)
    assert paid.status_code == 200

    locked = client.get(f"/courses/{course.slug}/lessons/les-1-2")
    text = html.unescape(locked.text)
    assert locked.status_code == 403
    assert f"Je groep begint op {format_day(start)}." in text
    assert f"Deze les gaat open op {format_day(start)}." in text
    assert "<strong>matje</strong>" in text
    assert "Koop de cursus" not in text
    assert _offered_group(text) is None
    session.refresh(group)
    assert group.taken == 1
    # The course page says so too, with what to prepare.
    page = client.get(f"/courses/{course.slug}")
    assert page.status_code == 200
    assert f"Je groep begint op {format_day(start)}." in html.unescape(page.text)
    assert "<strong>matje</strong>" in page.text
