"""The media storage interface, the same for both backends: the local folder and S3 (a real
SeaweedFS server, tests/s3_server.py)."""

from pathlib import Path

import httpx
import pytest

from api.config import Settings, SettingsError
from api.media.storage import LocalStorage, MediaStorage, S3Storage, storage_for

VIDEO = bytes(range(256)) * 40  # 10 KiB of recognisable bytes


def test_settings_choose_the_backend(tmp_path: Path, s3_settings: Settings) -> None:
    assert isinstance(storage_for(Settings(media_dir=tmp_path)), LocalStorage)
    chosen = storage_for(s3_settings)
    assert isinstance(chosen, S3Storage)
    # The secret key stays out of what a log line or an error message could show.
    assert s3_settings.media_s3_secret_key is not None
    secret = s3_settings.media_s3_secret_key.get_secret_value()
    assert secret not in repr(chosen)
    assert secret not in repr(s3_settings)


def test_s3_without_a_bucket_is_refused_at_the_start() -> None:
    with pytest.raises(SettingsError, match="MEDIA_S3_BUCKET"):
        Settings(_env_file=None, media_storage="s3").check()


def test_a_stored_file_reads_back_whole_and_in_ranges(storage: MediaStorage) -> None:
    storage.put_bytes("a1.mp4", VIDEO)

    assert storage.read_bytes("a1.mp4") == VIDEO
    assert storage.size("a1.mp4") == len(VIDEO)
    assert storage.exists("a1.mp4")
    assert storage.read_range("a1.mp4", 1000, 1010) == VIDEO[1000:1010]
    assert storage.read_range("a1.mp4", 9000, len(VIDEO)) == VIDEO[9000:]
    assert b"".join(storage.iter_range("a1.mp4", 0, len(VIDEO))) == VIDEO


def test_a_missing_file_has_no_size_and_cannot_be_read(
    storage: MediaStorage, tmp_path: Path
) -> None:
    assert storage.size("missing.mp4") is None
    assert not storage.exists("missing.mp4")
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("missing.mp4")
    with pytest.raises(FileNotFoundError):
        storage.fetch_to("missing.mp4", tmp_path / "copy.mp4")


def test_a_write_that_fails_stores_nothing(storage: MediaStorage) -> None:
    def refused_halfway() -> None:
        with storage.writing("half.mp4") as handle:
            handle.write(VIDEO)
            raise RuntimeError("refused halfway")

    with pytest.raises(RuntimeError):
        refused_halfway()

    assert not storage.exists("half.mp4")
    assert storage.list() == []


def test_a_folder_goes_in_comes_back_lists_and_goes(storage: MediaStorage, tmp_path: Path) -> None:
    rendition = tmp_path / "hls" / "360p"
    rendition.mkdir(parents=True)
    (rendition / "index.m3u8").write_text("#EXTM3U\n")
    (rendition / "segment-0.ts").write_bytes(VIDEO[:100])
    (tmp_path / "hls" / "master.m3u8").write_text("#EXTM3U\n")
    storage.put_bytes("b2.mp4", VIDEO)

    stored = storage.put_tree("hls/b2", tmp_path / "hls")
    storage.fetch_to("hls/b2/360p/segment-0.ts", tmp_path / "copy.ts")

    expected = ["hls/b2/360p/index.m3u8", "hls/b2/360p/segment-0.ts", "hls/b2/master.m3u8"]
    assert stored == expected
    assert (tmp_path / "copy.ts").read_bytes() == VIDEO[:100]
    assert storage.list("hls/b2/") == expected
    assert storage.list() == ["b2.mp4", *expected]
    assert storage.delete_prefix("hls/b2/") == 3
    assert storage.list() == ["b2.mp4"]
    storage.delete("b2.mp4")
    storage.delete("b2.mp4")  # gone already: nothing happens
    assert storage.list() == []


@pytest.mark.parametrize("name", ["../kern.db", "a/../b.mp4", ".upload-1", "a//b", "a\\b", ""])
def test_a_name_that_could_leave_the_storage_is_refused(storage: MediaStorage, name: str) -> None:
    with pytest.raises(ValueError, match="not a media name"):
        storage.put_bytes(name, b"x")


def test_a_signed_url_fetches_the_file_for_a_short_time(s3_settings: Settings) -> None:
    storage = storage_for(s3_settings)
    storage.put_bytes("c3.jpg", VIDEO)

    url = storage.presigned_url("c3.jpg", seconds=60)
    assert url is not None
    assert httpx.get(url).content == VIDEO
    # Without its signature the same address gives nothing: the bucket is not public.
    assert httpx.get(url.split("?")[0]).status_code == 403


def test_the_local_folder_hands_out_no_url(settings: Settings) -> None:
    storage = storage_for(settings)
    storage.put_bytes("d4.jpg", VIDEO)

    assert storage.presigned_url("d4.jpg") is None
    assert storage.local_path("d4.jpg") == settings.media_dir / "d4.jpg"
