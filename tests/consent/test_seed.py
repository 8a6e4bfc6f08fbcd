"""`kern seed` for development: the demo learner agreed before her demo practice was stored,
a choice to withdraw survives the next seed, and the demo practice's details fill the footer."""

from pathlib import Path

from sqlmodel import Session

from api import seed
from api.accounts import service as accounts
from api.catalog import packages
from api.consent import service as consent_service
from api.consent.texts import HEALTH_DATA_VERSION
from api.db import utcnow
from api.media.storage import LocalStorage
from api.practice_identity import service as identity_service
from api.progress import practice
from tests.consent.conftest import consents_of


def seed_everything(session: Session, media_dir: Path) -> None:
    seed.load_demo_accounts(session)
    seed.load_demo_practice(session)
    course_packages = [packages.load_package(folder) for folder in seed.course_folders()]
    seed.load_sample_courses(session, course_packages, storage=LocalStorage(media_dir))


def test_the_demo_learner_agreed_before_her_demo_practice_was_stored(
    session: Session, tmp_path: Path
) -> None:
    seed_everything(session, tmp_path)

    learner = accounts.find_by_email(session, seed.DEMO_LEARNER_EMAIL)
    assert learner is not None
    assert consent_service.has_health_consent(learner)
    [consent] = consents_of(session, learner)
    assert consent.given_at < utcnow()
    assert practice.count(session, user_id=learner.id or 0) > 0


def test_a_withdrawal_in_the_demo_survives_the_next_seed(session: Session, tmp_path: Path) -> None:
    seed.load_demo_accounts(session)
    learner = accounts.find_by_email(session, seed.DEMO_LEARNER_EMAIL)
    assert learner is not None
    # She agreed once and withdrew in the demo, before a new sample course came along.
    consent_service.give_health_consent(
        session,
        user=learner,
        version=HEALTH_DATA_VERSION,
        language="nl",
        now=utcnow(),
    )
    consent_service.withdraw_health_consent(session, user=learner, now=utcnow())

    seed_everything(session, tmp_path)

    assert not consent_service.has_health_consent(learner)
    assert practice.count(session, user_id=learner.id or 0) == 0


def test_the_demo_practice_fills_in_once_and_leaves_an_admins_details_alone(
    session: Session,
) -> None:
    seed.load_demo_practice(session)
    demo = identity_service.read(session)
    assert demo is not None
    assert demo.kvk_number == "12345678"
    own = identity_service.IdentityForm.of(demo)
    identity_service.save(
        session,
        form=identity_service.IdentityForm(**(own.values() | {"trading_name": "Echte Praktijk"})),
        now=utcnow(),
    )

    seed.load_demo_practice(session)

    found = identity_service.read(session)
    assert found is not None
    assert found.trading_name == "Echte Praktijk"
