"""The results: the targets judged, and a Markdown report next to the raw JSON.

The results are a plain dict (as stored in the JSON file), so a report can be rendered again from
an old run's JSON: `python -m bench.report bench/results/2026-11-22.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
TARGET_CEILING_SHARE = 0.35
TARGET_P99_TIMES_CEILING = 3.0
TARGET_LESSON_STATEMENTS = 3.0
TARGET_MEDIAN_GROWTH = 1.2
MEDIAN_CONNECTIONS = (8, 32)
TARGET_TRANSFER_BYTES = 40_000
TARGET_MEMORY_BYTES = 250 * MIB
TARGET_SOAK_GROWTH = 0.10
NOTES = "## Notes"

Results = dict[str, Any]
Run = dict[str, Any]


def runs_of(phase: Results, page: str) -> dict[int, Run]:
    return {run["connections"]: run for run in phase["runs"] if run["page"] == page}


def ceiling_share(phase: Results, run: Run) -> tuple[float | None, float | None]:
    """Throughput and p99 as multiples of the ceiling's at the same concurrency."""
    ceiling = runs_of(phase, "ceiling").get(run["connections"])
    if ceiling is None or not ceiling["rps"] or not ceiling["p99_ms"]:
        return None, None
    return run["rps"] / ceiling["rps"], run["p99_ms"] / ceiling["p99_ms"]


def _phase(results: Results, name: str) -> Results | None:
    return next((phase for phase in results.get("phases", []) if phase["name"] == name), None)


def _target(text: str, measured: str, met: bool, short: str) -> dict[str, Any]:
    return {"target": text, "measured": measured, "met": met, "short_by": "" if met else short}


def targets(results: Results) -> list[dict[str, Any]]:
    """Each target of issue 9 with the measured number, met or not, and by how much it misses."""
    found = []
    scale, empty = _phase(results, "scale"), _phase(results, "empty")
    lesson = runs_of(scale, "lesson").get(32) if scale else None
    if scale and lesson:
        share, p99 = ceiling_share(scale, lesson)
        if share is not None and p99 is not None:
            found.append(_target(
                f"lesson page ≥ {TARGET_CEILING_SHARE:.0%} of the ceiling's req/s at c=32",
                f"{share:.0%} ({lesson['rps']:.0f} req/s)",
                share >= TARGET_CEILING_SHARE,
                f"needs {TARGET_CEILING_SHARE / share:.1f}× the throughput"
                if share else "no answers",
            ))  # fmt: skip
            found.append(_target(
                f"lesson page p99 ≤ {TARGET_P99_TIMES_CEILING:.0f}× the ceiling's at c=32",
                f"{p99:.1f}× ({lesson['p99_ms']:.1f} ms)",
                p99 <= TARGET_P99_TIMES_CEILING,
                f"{p99 / TARGET_P99_TIMES_CEILING:.1f}× too slow",
            ))  # fmt: skip
    # Statements per page do not depend on the concurrency, but the requests still in flight
    # when wrk stops add theirs without being counted as requests: the lowest concurrency has
    # the least of that.
    statements = sorted(
        (connections, run["sql_per_request"])
        for connections, run in runs_of(scale, "lesson").items()
        if run.get("sql_per_request") is not None
    ) if scale else []  # fmt: skip
    if statements:
        connections, count = statements[0]
        found.append(_target(
            f"≤ {TARGET_LESSON_STATEMENTS:.0f} SQL statements per lesson page",
            f"{count:.2f} (c={connections})",
            round(count, 1) <= TARGET_LESSON_STATEMENTS,
            f"{count - TARGET_LESSON_STATEMENTS:.1f} statements too many",
        ))  # fmt: skip
    if scale and empty:
        found.append(_median_target(results, empty, scale))
    transfer = results.get("transfer")
    if transfer:
        size = transfer["transferred"]
        found.append(_target(
            f"lesson page < {TARGET_TRANSFER_BYTES / 1000:.0f} KB transferred "
            "(HTML + CSS + JS, gzip)",
            f"{size / 1000:.1f} KB",
            size < TARGET_TRANSFER_BYTES,
            f"{(size - TARGET_TRANSFER_BYTES) / 1000:.1f} KB too much",
        ))  # fmt: skip
    deployments = [phase["memory"]["deployment_pss"] for phase in results.get("phases", [])]
    if deployments:
        most = max(deployments)
        found.append(_target(
            "2 workers + PostgreSQL < 250 MiB (PSS after the load)",
            f"{most / MIB:.0f} MiB",
            most < TARGET_MEMORY_BYTES,
            f"{(most - TARGET_MEMORY_BYTES) / MIB:.0f} MiB too much",
        ))  # fmt: skip
    all_runs = [run for phase in results.get("phases", []) for run in phase["runs"]]
    if all_runs:
        errors = sum(run["errors"] for run in all_runs)
        requests = sum(run["requests"] for run in all_runs)
        found.append(_target(
            "no errors", f"{errors} in {requests:,} requests", errors == 0, f"{errors} errors"
        ))  # fmt: skip
    soak = results.get("soak")
    if soak:
        growth = soak["memory_growth"]
        found.append(_target(
            f"soak {soak['minutes']:g} min at c={soak['connections']}: no errors, memory "
            f"growth < {TARGET_SOAK_GROWTH:.0%}",
            f"{soak['errors']} errors, {growth:+.1%}",
            soak["errors"] == 0 and growth < TARGET_SOAK_GROWTH,
            f"{soak['errors']} errors, growth {growth:+.1%}",
        ))  # fmt: skip
    return found


def _median_target(results: Results, empty: Results, scale: Results) -> dict[str, Any]:
    ratios = []
    for page in results["pages"]:
        before, after = runs_of(empty, page), runs_of(scale, page)
        for connections in MEDIAN_CONNECTIONS:
            if _answered(before.get(connections)) and _answered(after.get(connections)):
                ratio = after[connections]["p50_ms"] / before[connections]["p50_ms"]
                ratios.append((ratio, page, connections))
    if not ratios:
        return _target("medians at scale ≤ 1.2× the empty database's", "not measured", False, "")
    worst, page, connections = max(ratios)
    over = sum(1 for ratio, *_ in ratios if ratio > TARGET_MEDIAN_GROWTH)
    learners = f"{scale['learners']:,}"
    return _target(
        f"with {learners} learners every page's p50 ≤ {TARGET_MEDIAN_GROWTH}× the empty "
        f"database's (c={' and '.join(map(str, MEDIAN_CONNECTIONS))})",
        f"worst {worst:.2f}× ({page}, c={connections})",
        worst <= TARGET_MEDIAN_GROWTH,
        f"{over} of {len(ratios)} over; worst {worst / TARGET_MEDIAN_GROWTH:.2f}× the limit",
    )


def _answered(run: Run | None) -> bool:
    """A run with answers: a stalled one has no latency to compare."""
    return bool(run and run["requests"] and run["p50_ms"])


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def phase_table(results: Results, phase: Results) -> list[str]:
    rows = []
    for page in ["ceiling", *results["pages"]]:
        for connections, run in sorted(runs_of(phase, page).items()):
            share, p99 = ceiling_share(phase, run) if page != "ceiling" else (None, None)
            ceiling = runs_of(phase, "ceiling").get(connections)
            cpu = (
                run["server_cpu_ms"] / ceiling["server_cpu_ms"]
                if ceiling
                and ceiling["server_cpu_ms"]
                and run["server_cpu_ms"]
                and page != "ceiling"
                else None
            )
            rows.append([
                page, str(connections), _number(run["rps"], 0), _number(share, 2),
                *((_number(run["p50_ms"]), _number(run["p99_ms"]), _number(p99, 1))
                  if run["requests"] else ("no answer", "", "")),
                _number(run.get("sql_per_request"), 1), _number(run["server_cpu_ms"], 2),
                _number(cpu, 1), _number(run.get("pg_cpu_ms"), 2), str(run["errors"]),
            ])  # fmt: skip
    return _table(
        ["page", "c", "req/s", "× ceiling", "p50 ms", "p99 ms", "p99 × ceiling", "SQL/req",
         "server CPU ms/req", "CPU × ceiling", "PG CPU ms/req", "errors"],
        rows,
    )  # fmt: skip


def memory_table(phase: Results) -> list[str]:
    memory = phase["memory"]
    rows = [
        [name, f"{values['rss'] / MIB:.1f}", f"{values['pss'] / MIB:.1f}"]
        for name, values in memory["processes"].items()
    ]
    rows.append([
        "**2 workers + supervisor + PostgreSQL**", "",
        f"**{memory['deployment_pss'] / MIB:.1f}**",
    ])  # fmt: skip
    return _table(["process", "RSS MiB", "PSS MiB"], rows)


def comparison_table(results: Results, empty: Results, scale: Results) -> list[str]:
    rows = []
    for page in results["pages"]:
        before, after = runs_of(empty, page), runs_of(scale, page)
        cells = [page]
        for connections in results["settings"]["connections"]:
            a, b = before.get(connections), after.get(connections)
            ratio = b["p50_ms"] / a["p50_ms"] if a and b and _answered(a) and _answered(b) else None
            cells.append(_number(ratio, 2))
        cpu = [
            after[c]["server_cpu_ms"] / before[c]["server_cpu_ms"]
            for c in before
            if c in after and before[c]["server_cpu_ms"] and after[c]["server_cpu_ms"]
        ]
        cells.append(_number(sum(cpu) / len(cpu), 2) if cpu else "–")
        rows.append(cells)
    header = ["page", *(f"p50 ratio c={c}" for c in results["settings"]["connections"])]
    return _table([*header, "server CPU/req ratio (mean)"], rows)


def render(results: Results) -> str:
    """The Markdown report."""
    lines = [f"# Kern benchmark, {results['date']}", "", results["summary"], ""]
    found = targets(results)
    if found:
        rows = [[t["target"], t["measured"], "met" if t["met"] else "**not met**", t["short_by"]]
                for t in found]  # fmt: skip
        lines += ["## Targets", "", *_table(["target", "measured", "", "short by"], rows), ""]
    lines += ["## Machine and versions", ""]
    info = {**results["machine"], **results["versions"], "git commit": results["commit"]}
    lines += [*_table(["", ""], [[key, str(value)] for key, value in info.items()]), ""]
    lines += ["## Settings", ""] + [f"- {line}" for line in results["settings"]["described"]]
    for phase in results.get("phases", []):
        lines += ["", f"## {phase['title']}", "", phase["data"], ""]
        lines += [*phase_table(results, phase), "", "Memory after the load:", ""]
        lines += memory_table(phase)
    empty, scale = _phase(results, "empty"), _phase(results, "scale")
    if empty and scale:
        lines += ["", f"## {scale['learners']:,} learners against the empty database", ""]
        lines += ["Median latency and server CPU per request at scale divided by the same on the "
                  "empty database (1.00: no change).", ""]  # fmt: skip
        lines += comparison_table(results, empty, scale)
    if results.get("transfer"):
        lines += ["", *transfer_section(results["transfer"])]
    if results.get("soak"):
        lines += ["", *soak_section(results["soak"])]
    return "\n".join(lines) + "\n"


def transfer_section(transfer: Results) -> list[str]:
    rows = [
        [f"`{item['path']}`", f"{item['bytes']:,}", f"{item['transferred']:,}",
         "server" if item["compressed_by"] == "server" else "bench (gzip -6)"]
        for item in transfer["items"]
    ]  # fmt: skip
    rows.append(["**total**", f"**{transfer['bytes']:,}**", f"**{transfer['transferred']:,}**", ""])
    return [
        "## Lesson page transfer size",
        "",
        f"`{transfer['page']}` as an enrolled learner, with every stylesheet and script it links; "
        "body bytes (headers not counted). Where the server sent a file uncompressed the bench "
        "gzipped it at level 6, as a proxy in front of Kern would.",
        "",
        *_table(["file", "bytes", "gzip bytes", "compressed by"], rows),
    ]


def soak_section(soak: Results) -> list[str]:
    rows = [[f"{sample['minute']:.1f}", f"{sample['kern_pss'] / MIB:.1f}",
             f"{sample['postgres_pss'] / MIB:.1f}",
             f"{(sample['kern_pss'] + sample['postgres_pss']) / MIB:.1f}"]
            for sample in soak["samples"]]  # fmt: skip
    return [
        f"## Soak: {soak['minutes']:g} minutes at c={soak['connections']}",
        "",
        f"All six requests in turn; {soak['requests']:,} requests, {soak['rps']:.0f} req/s, "
        f"p50 {soak['p50_ms']:.1f} ms, p99 {soak['p99_ms']:.1f} ms, {soak['errors']} errors. "
        f"Kern's memory (supervisor + workers, PSS) grew {soak['memory_growth']:+.1%} from the "
        f"first sample after the warm-up to the last; PostgreSQL's "
        f"{soak['postgres_growth']:+.1%}.",
        "",
        *_table(["minute", "Kern PSS MiB", "PostgreSQL PSS MiB", "total MiB"], rows),
    ]


def write(results: Results, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write `<stem>.md` and `<stem>.json`; notes under "## Notes" in an existing report stay."""
    directory.mkdir(parents=True, exist_ok=True)
    markdown, raw = directory / f"{stem}.md", directory / f"{stem}.json"
    text = render(results)
    if markdown.exists():
        old = markdown.read_text()
        if NOTES in old:
            text += "\n" + old[old.index(NOTES) :]
    markdown.write_text(text)
    raw.write_text(json.dumps(results, indent=2) + "\n")
    return markdown, raw


if __name__ == "__main__":
    for name in sys.argv[1:]:
        source = Path(name)
        print(write(json.loads(source.read_text()), source.parent, source.stem)[0])
