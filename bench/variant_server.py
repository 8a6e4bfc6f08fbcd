"""`python -m api.server` with one part of the zygote's warm-up switched off, for
`python -m bench.inprocess --memory`.

A module of its own because bench/inprocess.py imports the application: a supervisor that had
imported it would hold the pages the workers copy, which api/server.py keeps it from doing
(docs/performance.md#the-application-built-in-a-zygote).
"""

import argparse
import gc
from typing import Any

from api import server

# What `--without` can switch off.
VARIANTS = ("none", "warm-up", "rehearsal", "gc-freeze", "worker-imports")


def _nothing(*_args: Any) -> None:
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.variant_server", description=__doc__)
    parser.add_argument("--without", choices=VARIANTS, default="none")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    # Switched off by putting a function that does nothing in its place.
    owner, name = {
        "warm-up": (server, "warm"),
        "rehearsal": (server, "rehearse"),
        "gc-freeze": (gc, "freeze"),
        "worker-imports": (server, "import_worker_modules"),
    }.get(args.without, (None, ""))
    if owner is not None:
        setattr(owner, name, _nothing)
    server.main(
        [
            "--port", str(args.port), "--workers", str(args.workers),
            "--log-level=WARNING", "--forwarded-allow-ips=127.0.0.1",
        ]
    )  # fmt: skip


if __name__ == "__main__":
    main()
