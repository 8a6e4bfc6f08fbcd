"""The media storage of a test: once the local folder, once a bucket of the test S3 server."""

import pytest

from api.config import Settings
from api.media.storage import MediaStorage, storage_for


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, settings: Settings) -> MediaStorage:
    if request.param == "s3":
        # Asked for only here, so that `weed` starts for these tests and not for the others.
        return storage_for(request.getfixturevalue("s3_settings"))
    return storage_for(settings)
