"""The benchmark's pure parts: wrk's summary, the request files, the report and its targets."""

import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from bench import procstat, report, servers, transfer, wrk

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000
  2 threads and 32 connections
  4643 requests in 10.00s, 27.13MB read
  Non-2xx or 3xx responses: 2
BENCH-JSON {"requests": 4643, "duration_us": 10000000, "bytes": 28446800, "errors": {"connect": 0, \
"read": 1, "write": 0, "status": 2, "timeout": 3}, "latency_us": {"p50": 3592, "p90": 7677, \
"p99": 12425, "mean": 3762.7, "max": 21397}, "statuses": {"200": 4639, "302": 2, "500": 2}}
"""


def test_the_summary_line_of_load_lua_is_read() -> None:
    result = wrk.parse(WRK_OUTPUT)

    assert result.requests == 4643
    assert result.per_second == pytest.approx(464.3)
    assert result.p50_ms == pytest.approx(3.592)
    assert result.p99_ms == pytest.approx(12.425)
    assert result.statuses == {200: 4639, 302: 2, 500: 2}


def test_errors_are_socket_errors_and_every_unexpected_status() -> None:
    result = wrk.parse(WRK_OUTPUT)

    # wrk's own "status" count (>= 400) is not added twice; a redirect to /login is an error too.
    assert result.errors((200,)) == 1 + 3 + 2 + 2


def test_a_run_with_fewer_answers_than_connections_counts_the_silent_ones() -> None:
    stalled = wrk.parse(WRK_OUTPUT.replace('"requests": 4643', '"requests": 20'))

    assert stalled.unanswered(128) == 108
    assert wrk.parse(WRK_OUTPUT).unanswered(128) == 0


def test_output_without_a_summary_is_refused() -> None:
    with pytest.raises(ValueError, match="no summary"):
        wrk.parse("unable to connect to 127.0.0.1:8000 Connection refused")


def test_a_request_is_one_tab_separated_line(tmp_path: Path) -> None:
    request = wrk.Request(
        "POST", "/api/v1/practice", {"Cookie": "a=b; c=d"}, body='{"client_id": "{client_id}"}'
    )
    path = wrk.write_requests(tmp_path / "requests.txt", [request, wrk.Request("GET", "/today")])

    assert path.read_text().splitlines() == [
        'POST\t/api/v1/practice\t{"client_id": "{client_id}"}\tCookie: a=b; c=d',
        "GET\t/today\t-",
    ]
    assert wrk.read_requests(path) == [request, wrk.Request("GET", "/today")]


def test_a_tab_inside_a_request_is_refused() -> None:
    with pytest.raises(ValueError, match="tab"):
        wrk.Request("GET", "/courses", {"Cookie": "a\tb"}).line()


def test_smaps_rollup_gives_rss_and_pss_in_bytes() -> None:
    text = (
        "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  2048 kB\nPss:  1024 kB\nPss_Anon: 8 kB\n"
    )

    assert procstat.parse_smaps_rollup(text) == procstat.Memory(rss=2048 * 1024, pss=1024 * 1024)


def test_this_process_has_cpu_time_and_memory() -> None:
    assert procstat.cpu_seconds(os.getpid()) > 0
    assert procstat.memory(os.getpid()).pss > 0


def test_a_run_waits_until_the_server_has_let_go_of_the_last_runs_connections() -> None:
    """A server's end of a connection counts until the server closes it, also after the client
    has (the 10-30 ms in which a worker still answers what wrk sent before it stopped)."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listening.accept()
        assert procstat.connections_held(port) == 1
        client.close()
        assert procstat.connections_held(port) == 1  # closed by the client only
        assert not servers.wait_idle(port, timeout_seconds=0.05)

        closing = threading.Timer(0.2, accepted.close)
        closing.start()
        assert servers.wait_idle(port, timeout_seconds=5)
        assert accepted.fileno() == -1  # it returned once the server had closed its end
        assert procstat.connections_held(port) == 0
        closing.join()


def test_the_stylesheets_and_scripts_a_page_links_are_found_once() -> None:
    html = """<link rel="stylesheet" href="/static/css/kern.css"><link rel="icon" href="/i.svg">
    <script type="application/json" id="config">{}</script><script src="/static/js/player.js" defer>
    </script><link rel="stylesheet" href="/static/css/kern.css">"""

    assert transfer.linked_assets(html) == [
        ("css", "/static/css/kern.css"),
        ("js", "/static/js/player.js"),
    ]


def _run(page: str, connections: int, rps: float, p50: float, **extra: Any) -> dict[str, Any]:
    return {
        "page": page, "connections": connections, "requests": int(rps * 10), "rps": rps,
        "p50_ms": p50, "p99_ms": p50 * 3, "errors": 0, "sql_per_request": 2.0,
        "server_cpu_ms": 1.0, "pg_cpu_ms": 0.2, **extra,
    }  # fmt: skip


def _phase(name: str, learners: int, lesson_rps: float, lesson_p50: float) -> dict[str, Any]:
    runs = []
    for connections in (8, 32):
        runs += [
            _run("ceiling", connections, 4000, 5),
            _run("lesson", connections, lesson_rps, lesson_p50),
        ]
    return {
        "name": name, "title": name, "learners": learners, "data": "", "runs": runs,
        "memory": {"processes": {"kern worker 1": {"rss": 2**27, "pss": 2**26}},
                   "deployment_pss": 200 * report.MIB},
    }  # fmt: skip


def _results() -> dict[str, Any]:
    return {
        "date": "2026-11-22", "summary": "a run", "machine": {"CPU": "x"},
        "versions": {"Python": "3.11"}, "commit": "abc", "pages": ["lesson"],
        "settings": {"connections": [8, 32], "described": ["wrk"]},
        "phases": [_phase("empty", 50, 1600, 10), _phase("scale", 100_000, 1200, 13)],
        "transfer": {"page": "/l", "bytes": 70_000, "transferred": 41_000, "items": []},
    }  # fmt: skip


def test_targets_say_what_is_met_and_by_how_much_the_rest_misses() -> None:
    found = {target["target"]: target for target in report.targets(_results())}
    throughput = next(t for name, t in found.items() if "ceiling's req/s" in name)
    medians = next(t for name, t in found.items() if "empty database" in name)
    size = next(t for name, t in found.items() if "transferred" in name)

    assert not throughput["met"]
    assert throughput["measured"] == "30% (1200 req/s)"
    assert throughput["short_by"] == "needs 1.2× the throughput"
    assert not medians["met"]
    assert medians["measured"] == "worst 1.30× (lesson, c=32)"
    assert not size["met"]
    assert size["short_by"] == "1.0 KB too much"


def test_notes_written_under_the_report_survive_a_new_run(tmp_path: Path) -> None:
    markdown, raw = report.write(_results(), tmp_path, "2026-11-22")
    markdown.write_text(markdown.read_text() + "\n## Notes\n\nThe lead's words.\n")

    report.write(_results(), tmp_path, "2026-11-22")

    text = markdown.read_text()
    assert text.startswith("# Kern benchmark, 2026-11-22")
    assert text.count("The lead's words.") == 1
    assert raw.exists()
