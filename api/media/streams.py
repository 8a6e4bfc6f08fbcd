"""The adaptive stream of each uploaded video: queued at upload, made by the worker
(api/media/transcode.py), shown by the lesson page once ready.

A video's original stays stored and plays until its stream is ready, and again should the
conversion fail.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.db import WRITE_INTENT, utcnow
from api.i18n import N_
from api.i18n import gettext as _
from api.media import files, hls
from api.media.models import StreamState, VideoStream
from api.media.storage import MediaStorage

# Why a conversion failed: a code in the database, said in her language on the page.
REASONS = {
    "no_video": N_("No video track was found in the file."),
    "unreadable": N_("The file could not be read as a video."),
    "failed": N_("Converting the video stopped with an error."),
    "timeout": N_("Converting the video took too long and was stopped."),
    "no_ffmpeg": N_("This server cannot convert videos: ffmpeg is not installed."),
    "missing": N_("The uploaded file is no longer there."),
}
# A job whose worker has said nothing for this long is taken up again (the worker stopped).
STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class StreamView:
    """What a page shows of a video's stream."""

    state: StreamState
    progress: int
    reason: str | None
    master_url: str | None
    poster_url: str | None
    duration_seconds: float | None

    @property
    def ready(self) -> bool:
        return self.state == StreamState.ready

    @property
    def busy(self) -> bool:
        return self.state in (StreamState.queued, StreamState.processing)

    @property
    def length(self) -> str | None:
        """The duration as a clock shows it: "4:32", "1:02:05"."""
        if self.duration_seconds is None:
            return None
        return clock_text(self.duration_seconds)

    @property
    def iso_duration(self) -> str | None:
        """The duration for a <time> element: "PT272S"."""
        if self.duration_seconds is None:
            return None
        return f"PT{max(0, round(self.duration_seconds))}S"


@dataclass(frozen=True)
class Job:
    """A stream the worker has claimed to make."""

    id: int
    name: str
    prefix: str


def clock_text(seconds: float) -> str:
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def reason_text(code: str | None) -> str | None:
    """The failure's reason in the current language."""
    if code is None:
        return None
    return _(REASONS.get(code, REASONS["failed"]))


def status_text(stream: StreamView) -> str:
    """How the conversion stands, for the instructor, in the current language."""
    if stream.state == StreamState.queued:
        return _("Being processed: waiting for its turn. Until it is done, the original plays.")
    if stream.state == StreamState.processing:
        return _(
            "Being processed: %(percent)s%% done. Until it is done, the original plays.",
            percent=stream.progress,
        )
    if stream.state == StreamState.ready:
        return _("Ready: learners get the video in the quality their connection can carry.")
    return _(
        "Processing failed: %(reason)s The original file plays as it was uploaded.",
        reason=stream.reason or _(REASONS["failed"]),
    )


def queue(session: Session, *, name: str) -> VideoStream:
    """Ask the worker for the stream of the stored video `name`; a video that has one (or is
    waiting for one) keeps it."""
    found = of(session, name=name)
    if found is not None:
        return found
    stream = VideoStream(name=name, prefix=secrets.token_hex(16))
    session.add(stream)
    session.flush()
    return stream


def of(session: Session, *, name: str) -> VideoStream | None:
    return session.exec(select(VideoStream).where(VideoStream.name == name)).first()


def by_prefix(session: Session, *, prefix: str) -> VideoStream | None:
    return session.exec(select(VideoStream).where(VideoStream.prefix == prefix)).first()


def view_of(session: Session, *, name: str) -> StreamView | None:
    """What the pages show of the stream of `name`; None when it has none."""
    stream = of(session, name=name)
    return None if stream is None else view(stream)


def view(stream: VideoStream) -> StreamView:
    ready = stream.state == StreamState.ready
    return StreamView(
        state=StreamState(stream.state),
        progress=stream.progress,
        reason=reason_text(stream.reason) if stream.state == StreamState.failed else None,
        master_url=hls.output_url(stream.prefix, hls.MASTER) if ready else None,
        poster_url=hls.output_url(stream.prefix, hls.POSTER) if stream.has_poster else None,
        duration_seconds=stream.duration_seconds,
    )


def forget(session: Session, *, name: str, storage: MediaStorage) -> None:
    """The video `name` is being removed: its stream goes too, once the transaction commits."""
    stream = of(session, name=name)
    if stream is None:
        return
    session.execute(delete(VideoStream).where(col(VideoStream.id) == stream.id))
    files.after_commit(session, partial(hls.remove_output, storage, stream.prefix))


# The worker's side: each step is its own short transaction, so the studio sees the progress.


def claim(factory: sessionmaker[Session], *, now: datetime | None = None) -> Job | None:
    """Take the oldest waiting stream (or one whose worker went quiet); None when there is none.

    The claim is a conditional UPDATE, so two workers never take the same stream.
    """
    moment = now or utcnow()
    with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
        waiting = session.exec(
            select(VideoStream)
            .where(
                or_(
                    col(VideoStream.state) == StreamState.queued,
                    (col(VideoStream.state) == StreamState.processing)
                    & (col(VideoStream.updated_at) < moment - STALE_AFTER),
                )
            )
            .order_by(col(VideoStream.id))
            .limit(5)
        ).all()
        for stream in waiting:
            if stream.attempts >= MAX_ATTEMPTS:
                _set(session, stream, state=StreamState.failed, reason="failed", now=moment)
                continue
            taken = session.execute(
                update(VideoStream)
                .where(
                    col(VideoStream.id) == stream.id,
                    col(VideoStream.state) == stream.state,
                    col(VideoStream.attempts) == stream.attempts,
                )
                .values(
                    state=StreamState.processing.value,
                    progress=0,
                    reason=None,
                    attempts=stream.attempts + 1,
                    updated_at=moment,
                )
            )
            if taken.rowcount == 1 and stream.id is not None:  # type: ignore[attr-defined]
                return Job(id=stream.id, name=stream.name, prefix=stream.prefix)
    return None


def report(factory: sessionmaker[Session], job: Job, **values: object) -> bool:
    """Write what the worker found or made (progress, duration, poster, the final state);
    False when the stream is gone meanwhile (its video was replaced or removed)."""
    with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
        done = session.execute(
            update(VideoStream)
            .where(
                col(VideoStream.id) == job.id,
                col(VideoStream.state) == StreamState.processing,
            )
            .values(updated_at=utcnow(), **values)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def _set(
    session: Session, stream: VideoStream, *, state: StreamState, reason: str, now: datetime
) -> None:
    session.execute(
        update(VideoStream)
        .where(col(VideoStream.id) == stream.id)
        .values(state=state.value, reason=reason, updated_at=now)
    )
