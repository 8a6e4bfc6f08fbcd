"""How long converting a video into its adaptive stream takes on this machine, and how large the
segments of each rendition come out.

    .venv/bin/python -m bench.transcode                  # one minute of 1080p test picture
    .venv/bin/python -m bench.transcode --seconds 20 --size 1280x720
    .venv/bin/python -m bench.transcode --source phone-recording.mp4

It runs the worker's own steps (api/media/transcode.py: probe, poster, one ffmpeg run for every
rendition) on a temporary folder and prints a Markdown report: the time per minute of video
(wall clock and ffmpeg's CPU time) and, per rendition, the segments' count, mean and largest
size and the bitrate they add up to. Nothing is stored and no database is needed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from api.media import transcode


def make_source(folder: Path, seconds: int, size: str) -> Path:
    """ffmpeg's moving test picture with a tone, encoded as a phone would (H.264, AAC)."""
    path = folder / "source.mp4"
    subprocess.run(  # noqa: S603 (a fixed program)
        [transcode.tool("ffmpeg"), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30", "-f", "lavfi", "-i", "sine",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(source: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="kern-bench-hls-") as work:
        folder = Path(work)
        found = transcode.probe(source)
        started, cpu = time.monotonic(), children_cpu()
        transcode.poster(source, folder, found)
        sizes = transcode.encode(source, folder, found, lambda _percent: None)
        wall, used = time.monotonic() - started, children_cpu() - cpu
        minutes = found.duration / 60
        lines = [
            f"# Converting {source.name}: {found.width}×{found.height}, "
            f"{found.duration:.1f} s{' with sound' if found.has_audio else ''}",
            "",
            f"- wall clock: {wall:.1f} s, {wall / minutes:.1f} s per minute of video",
            f"- ffmpeg's CPU time: {used:.1f} s, {used / minutes:.1f} s per minute of video",
            f"- poster: {(folder / 'poster.jpg').stat().st_size / 1024:.0f} KiB",
            "",
            "| rendition | segments | mean segment | largest segment | kbit/s |",
            "|---|---|---|---|---|",
        ]
        for size in sizes:
            segments = sorted(folder.glob(f"{size}p_*.ts"))
            sizes_bytes = [segment.stat().st_size for segment in segments]
            total = sum(sizes_bytes)
            lines.append(
                f"| {size}p | {len(segments)} | {total / len(segments) / 1024:.0f} KiB | "
                f"{max(sizes_bytes) / 1024:.0f} KiB | {total * 8 / found.duration / 1000:.0f} |"
            )
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the test video")
    parser.add_argument("--size", default="1920x1080", help="its picture size, WIDTHxHEIGHT")
    parser.add_argument("--source", type=Path, help="a video of your own instead")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kern-bench-source-") as work:
        source = options.source or make_source(Path(work), options.seconds, options.size)
        print(report(source))


if __name__ == "__main__":
    main()
