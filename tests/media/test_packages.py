"""A course package with its files goes into either storage and comes back out the same, and
importing her own export again stores nothing new."""

from pathlib import Path

from sqlmodel import Session

from api.accounts.models import Role
from api.catalog.packages import export_course, load_package
from api.media import imports
from api.media.files import MB
from api.media.storage import MediaStorage
from tests.catalog.test_package_export import rich_package
from tests.factories import make_user


def test_a_package_round_trips_through_the_storage(
    session: Session, storage: MediaStorage, tmp_path: Path
) -> None:
    inge = make_user(session, role=Role.instructor)
    original = load_package(rich_package().write(tmp_path / "bron"))
    imports.import_package(session, original, instructor=inge, storage=storage, max_video_bytes=MB)
    stored = storage.list()

    folder = export_course(session, slug="sterke-start", target=tmp_path / "uit", storage=storage)
    again = imports.import_package(
        session, load_package(folder), instructor=inge, storage=storage, max_video_bytes=MB
    )

    assert sorted(path.name for path in (folder / "media").iterdir()) == stored
    for name in stored:
        assert (folder / "media" / name).read_bytes() == storage.read_bytes(name)
    assert again.outcome == "Unchanged"
    assert storage.list() == stored
