"""Cohorts as pages show them: the same choice of group wherever she can buy, and the studio's
groups."""

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.catalog.models import Course
from api.clock import local_day
from api.cohorts import service as cohorts
from api.cohorts.models import Cohort, CohortSeat, SeatStatus
from api.db import utcnow
from tests.factories import WAIVER, log_in, make_course, make_user, post_form


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
