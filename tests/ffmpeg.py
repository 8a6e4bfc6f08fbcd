"""Debian's ffmpeg and ffprobe, which the video tests drive. Outside CI a machine without them
skips those tests; in CI (`.ci/run` installs them) they run, and fail should ffmpeg be missing."""

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
MISSING = not (os.path.isfile(FFMPEG) and os.path.isfile(FFPROBE))

needs_ffmpeg = pytest.mark.skipif(MISSING and not IN_CI, reason="needs ffmpeg and ffprobe")
