"""Her journal is hers: deleting her account deletes every entry she wrote, shared ones
included, and leaves another learner's entries alone; a therapist's view of her shared entries
is then empty."""

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.journal import service as journal
from api.journal.models import JournalEntry
from api.kit.ids import id_of
from tests.factories import (
    PASSWORD,
    agree_to_health_data,
    log_in,
    make_course,
    make_user,
    post_form,
)
from tests.journal.test_pages import enrol


def test_deleting_her_account_deletes_her_entries_and_no_one_elses(
    client: TestClient, session: Session
) -> None:
    alice, bob = make_user(session, name="Alice"), make_user(session, name="Bob")
    course = make_course(session)
    for user in (alice, bob):
        agree_to_health_data(session, user)
        enrol(session, user, course)
    session.add(JournalEntry(user_id=id_of(bob), day=date(2026, 11, 18), text="Van Bob"))
    alice_id = id_of(alice)
    log_in(client, alice)
    written = post_form(client, "/journal/new", {"text": "Van Alice"})
    entry_id = written.headers["location"].rsplit("#entry-", 1)[1]
    post_form(client, f"/journal/{entry_id}/share", {"course": str(course.id)})
    assert journal.shared_entries(session, course_id=id_of(course), learner_id=id_of(alice))

    deleted = post_form(
        client, "/account/delete", {"password": PASSWORD, "confirmation": "VERWIJDER"}
    )

    assert deleted.status_code == 200, deleted.text[:300]
    session.expire_all()
    assert [entry.text for entry in session.exec(select(JournalEntry)).all()] == ["Van Bob"]
    assert journal.shared_entries(session, course_id=id_of(course), learner_id=alice_id) == []
