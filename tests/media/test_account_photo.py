"""Deleting an instructor's account takes her photo out of the media storage."""

import io

from PIL import Image
from sqlmodel import Session

from api.accounts import personal_data
from api.accounts.models import Role
from api.config import Settings
from api.media import service as media
from api.media.storage import storage_for
from tests.factories import PASSWORD, make_user


def test_deleting_her_account_deletes_her_photo_once_that_commits(
    session: Session, settings: Settings
) -> None:
    storage = storage_for(settings)
    inge = make_user(session, role=Role.instructor)
    picture = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 120, 90)).save(picture, "PNG")
    picture.seek(0)
    profile = media.save_profile(
        session,
        user=inge,
        source=picture,
        storage=storage,
        bio="Bekkenfysiotherapeut.",
        credentials="",
        photo_alt="Inge in haar praktijk",
    )
    session.commit()
    assert profile.photo is not None
    photo = profile.photo
    assert storage.exists(photo)

    personal_data.delete_account(
        session, user=inge, password=PASSWORD, confirmation="VERWIJDER", storage=storage
    )
    assert storage.exists(photo)  # until the deletion is committed
    session.commit()

    assert not storage.exists(photo)
