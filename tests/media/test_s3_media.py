"""Media in S3: an upload in the studio goes to the bucket, and /media/ streams it from there
with ranges, to those the course lets see it and no one else."""

import io

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import Role
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.media.storage import storage_for
from tests.factories import (
    course_lessons,
    csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
)

MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 40


def test_a_video_uploaded_to_s3_is_streamed_to_her_learners_only(
    client: TestClient, session: Session, s3_settings: Settings
) -> None:
    alice = make_user(session, role=Role.instructor, language="en")
    log_in(client, alice, secret=enable_totp(session, alice))
    course = make_course(session, instructor=alice, price_cents=4500)
    lessons = course_lessons(session, course)
    paid = lessons[1]  # the first is the free preview

    uploaded = client.post(
        f"/studio/courses/{course.slug}/lessons/{paid.id}/video",
        data={"csrf_token": csrf_token(client)},
        files={"video": ("les.mp4", io.BytesIO(MP4), "video/mp4")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    session.refresh(paid)
    name = paid.video_ref
    assert name is not None
    assert storage_for(s3_settings).read_bytes(name) == MP4
    assert not s3_settings.media_dir.exists()  # nothing on this server's disk

    learner = make_user(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    log_in(client, learner)
    part = client.get(f"/media/{name}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == MP4[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(MP4)}"
    assert part.headers["content-type"] == "video/mp4"
    assert part.headers["cache-control"].startswith("private")
    whole = client.get(f"/media/{name}")
    assert (whole.status_code, whole.content) == (200, MP4)
    assert client.get(f"/media/{name}", headers={"Range": "bytes=-10"}).content == MP4[-10:]
    assert client.get(f"/media/{name}", headers={"Range": "bytes=99999-"}).status_code == 416
    head = client.head(f"/media/{name}")
    assert head.headers["content-length"] == str(len(MP4))

    log_in(client, make_user(session))  # a learner who did not buy the course
    refused = client.get(f"/media/{name}", headers={"Range": "bytes=100-199"})
    assert refused.status_code == 403
    assert MP4[100:200] not in refused.content
