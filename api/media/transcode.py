"""Turning an uploaded video into an adaptive (HLS) stream with Debian's ffmpeg.

One job: ffprobe reads the duration, the picture's size and whether there is sound; ffmpeg takes
a poster frame and then encodes every rendition in one run (H.264 `veryfast`, AAC sound, segments
of about four seconds), reporting its progress as it goes. A rendition is never taller than the
source: a 1080p phone recording gets 360p, 540p and 720p, a 480p one 360p and 480p. (For an
upright video "tall" means its width: the short side decides.)

All of it happens in a temporary folder; the stream is stored through api/media/hls.py.
"""

import json
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.config import Settings
from api.media import hls, streams
from api.media.models import StreamState
from api.media.storage import MediaStorage, storage_for

log = logging.getLogger("kern.transcode")

LADDER = (360, 540, 720)
# Video bitrates (kbit/s) by the rendition's short side; in between, the next one up.
BITRATES = ((240, 400), (360, 800), (480, 1100), (540, 1400), (720, 2500))
AUDIO_BITRATE = "96k"
SEGMENT_SECONDS = 4
MAX_FPS = 30
# A rung this close under the source's own size adds little: 540p is left out for a 600p source.
CLOSE_TO_TOP = 0.85
PROGRESS_EVERY_SECONDS = 2.0
# ffmpeg runs at a lower priority, so the pages stay quick while it works.
_NICE = ["nice", "-n", "10"] if shutil.which("nice") else []


class TranscodeFailed(Exception):
    """A conversion that cannot succeed; `code` is a key of streams.REASONS."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Probe:
    width: int
    height: int
    duration: float
    has_audio: bool
    fps: float


def tool(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
    )
    if found is None:
        raise TranscodeFailed("no_ffmpeg")
    return found


def probe(path: Path) -> Probe:
    """What ffprobe says about the file; TranscodeFailed when it holds no video."""
    command = [
        tool("ffprobe"), "-v", "error", "-of", "json",
        "-show_entries",
        "format=duration:stream=codec_type,width,height,avg_frame_rate:stream_tags=rotate"
        ":stream_side_data=rotation",
        str(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program on Kern's own file)
            command, capture_output=True, timeout=60, check=False
        )
        found: dict[str, Any] = json.loads(done.stdout or b"{}") if done.returncode == 0 else {}
    except (subprocess.TimeoutExpired, ValueError):
        found = {}
    if not found:
        raise TranscodeFailed("unreadable")
    all_streams = found.get("streams") or []
    video = next((s for s in all_streams if s.get("codec_type") == "video"), None)
    if video is None or not video.get("width") or not video.get("height"):
        raise TranscodeFailed("no_video")
    width, height = int(video["width"]), int(video["height"])
    if _rotation(video) in (90, 270):
        width, height = height, width
    try:
        duration = float(found.get("format", {}).get("duration", 0))
    except ValueError:
        duration = 0.0
    return Probe(
        width=width,
        height=height,
        duration=max(duration, 0.0),
        has_audio=any(s.get("codec_type") == "audio" for s in all_streams),
        fps=_rate(video.get("avg_frame_rate")),
    )


def ladder(width: int, height: int) -> list[int]:
    """The renditions' short sides, smallest first, none above the source's."""
    short = min(width, height) // 2 * 2
    top = min(short, LADDER[-1])
    rungs = [rung for rung in LADDER if rung < top and rung <= top * CLOSE_TO_TOP]
    return [*rungs, top]


def bitrate(short_side: int) -> int:
    for size, kbits in BITRATES:
        if short_side <= size:
            return kbits
    return BITRATES[-1][1]


def poster(source: Path, folder: Path, found: Probe) -> bool:
    """A JPEG frame from early in the video as `poster.jpg`; whether there is one."""
    moment = min(found.duration * 0.1, 3.0)
    short = min(found.width, found.height, LADDER[-1]) // 2 * 2
    command = [
        tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-ss", f"{moment:.2f}", "-i", str(source),
        "-frames:v", "1", "-vf", _scale(found, short), "-q:v", "4", str(folder / hls.POSTER),
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program on Kern's own file)
            [*_NICE, *command], capture_output=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and (folder / hls.POSTER).is_file()


def encode(
    source: Path, folder: Path, found: Probe, on_progress: Callable[[int], None]
) -> list[int]:
    """Encode every rendition into `folder` in one ffmpeg run; the renditions' short sides."""
    sizes = ladder(found.width, found.height)
    count = len(sizes)
    rate = f"fps={MAX_FPS}," if found.fps > MAX_FPS + 1 else ""
    chains = [f"[0:v:0]{rate}split={count}" + "".join(f"[s{i}]" for i in range(count))]
    chains += [f"[s{i}]{_scale(found, size)},format=yuv420p[v{i}]" for i, size in enumerate(sizes)]
    command = [
        tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(source),
        "-filter_complex", ";".join(chains),
    ]  # fmt: skip
    for i in range(count):
        command += ["-map", f"[v{i}]"] + (["-map", "0:a:0"] if found.has_audio else [])
    command += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main"]
    for i, size in enumerate(sizes):
        kbits = bitrate(size)
        command += [
            f"-b:v:{i}", f"{kbits}k", f"-maxrate:v:{i}", f"{kbits * 11 // 10}k",
            f"-bufsize:v:{i}", f"{kbits * 2}k",
        ]  # fmt: skip
    if found.has_audio:
        command += ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2"]
    variants = " ".join(
        f"v:{i}" + (f",a:{i}" if found.has_audio else "") + f",name:{size}p"
        for i, size in enumerate(sizes)
    )
    command += [
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-sc_threshold", "0",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
        "-hls_segment_filename", str(folder / "%v_%03d.ts"),
        "-master_pl_name", hls.MASTER, "-var_stream_map", variants,
        "-progress", "pipe:1", "-nostats",
        str(folder / "%v.m3u8"),
    ]  # fmt: skip
    _run_with_progress(command, found.duration, on_progress)
    if not (folder / hls.MASTER).is_file():
        raise TranscodeFailed("failed")
    return sizes


def process_next(factory: sessionmaker[Session], settings: Settings) -> StreamState | None:
    """Make the stream of the oldest waiting video; its final state, None when none waits."""
    job = streams.claim(factory)
    if job is None:
        return None
    log.info("converting video %s", job.name)
    storage = storage_for(settings)
    try:
        state = _process(factory, storage, job)
    except FileNotFoundError:
        streams.report(factory, job, state=StreamState.failed.value, reason="missing")
        return StreamState.failed
    except TranscodeFailed as failed:
        log.info("video %s not converted: %s", job.name, failed.code)
        streams.report(factory, job, state=StreamState.failed.value, reason=failed.code)
        hls.remove_output(storage, job.prefix)
        return StreamState.failed
    except Exception:
        log.exception("converting video %s failed", job.name)
        streams.report(factory, job, state=StreamState.failed.value, reason="failed")
        hls.remove_output(storage, job.prefix)
        return StreamState.failed
    return state


def _process(
    factory: sessionmaker[Session], storage: MediaStorage, job: streams.Job
) -> StreamState:
    with (
        hls.original_to_local(storage, job.name) as source,
        tempfile.TemporaryDirectory(prefix="kern-hls-") as work,
    ):
        folder = Path(work)
        found = probe(source)
        # The poster and the length first: the lesson page shows them while the rest is made.
        has_poster = poster(source, folder, found)
        if has_poster:
            hls.store_output(storage, job.prefix, folder)
            (folder / hls.POSTER).unlink()
        if not streams.report(
            factory, job, duration_seconds=round(found.duration, 2), has_poster=has_poster
        ):
            hls.remove_output(storage, job.prefix)
            return StreamState.failed

        last = [time.monotonic(), 0]

        def progress(percent: int) -> None:
            now = time.monotonic()
            if percent > last[1] and now - last[0] >= PROGRESS_EVERY_SECONDS:
                last[:] = [now, percent]
                streams.report(factory, job, progress=percent)

        sizes = encode(source, folder, found, progress)
        hls.store_output(storage, job.prefix, folder)
    finished = streams.report(
        factory,
        job,
        state=StreamState.ready.value,
        progress=100,
        renditions=",".join(str(size) for size in sizes),
    )
    if not finished:
        # Its video was replaced or removed while it was being made.
        hls.remove_output(storage, job.prefix)
        return StreamState.failed
    return StreamState.ready


def _run_with_progress(
    command: list[str], duration: float, on_progress: Callable[[int], None]
) -> None:
    """Run ffmpeg, passing on its `-progress` report as a percentage of `duration`."""
    timeout = 300 + duration * 10
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 (a fixed program on Kern's own files)
            [*_NICE, *command], stdout=subprocess.PIPE, stderr=errors
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _follow(process.stdout, duration, on_progress)
            code = process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if code != 0:
            errors.seek(0)
            log.info("ffmpeg stopped (%s): %s", code, errors.read(800).decode(errors="replace"))
            raise TranscodeFailed("timeout" if code == -9 else "failed")


def _follow(stream: IO[bytes] | None, duration: float, on_progress: Callable[[int], None]) -> None:
    if stream is None:
        return
    for raw in stream:
        percent = percent_done(raw.decode(errors="replace"), duration)
        if percent is not None:
            on_progress(percent)


def percent_done(line: str, duration: float) -> int | None:
    """How far ffmpeg is, from one line of its `-progress` report (`out_time_us=…`, the
    microseconds encoded so far); None for the report's other lines. 100 waits for the end."""
    key, _sep, value = line.strip().partition("=")
    if key != "out_time_us" or duration <= 0 or not value.isdigit():
        return None
    return min(99, int(int(value) / 1_000_000 / duration * 100))


def _scale(found: Probe, short: int) -> str:
    """Scale so that the short side is `short`, keeping the shape (even sizes for H.264)."""
    return f"scale=-2:{short}" if found.width >= found.height else f"scale={short}:-2"


def _rotation(video: dict[str, Any]) -> int:
    rotate = (video.get("tags") or {}).get("rotate")
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            rotate = side["rotation"]
    try:
        return abs(int(float(rotate or 0))) % 360
    except ValueError:
        return 0


def _rate(value: object) -> float:
    text = str(value or "0/1")
    top, _sep, bottom = text.partition("/")
    try:
        return float(top) / float(bottom or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0
