"""Small valid course packages written under tmp_path, for tests to change one thing in."""

import copy
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

SLUG = "sterke-start"


def _course(slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": "Sterke start — bekkenbodem in twee weken",
        "subtitle": "Elke dag een paar minuten",
        "language": "nl",
        "price_cents": 4900,
        "status": "published",
        "schedule": "drip",
        "description": "Een korte cursus om je **bekkenbodem** te leren vinden.\n\nZonder haast.\n",
        "outcomes": ["Je weet waar je bekkenbodem zit", "Je kunt rustig uitademen"],
        "faq": [{"question": "Hoe vaak oefen ik?", "answer": "Twee tot drie keer per dag."}],
        "modules": [
            {
                "title": "Week 1 — Bewustwording",
                "summary": "Voelen wat er gebeurt.",
                "unlock_after_days": 0,
                "lessons": ["01-welkom.md", "02-aanspannen.md"],
            },
            {
                "title": "Week 2 — Adem",
                "summary": "Ademen en ontspannen.",
                "unlock_after_days": 7,
                "lessons": ["03-ademen.md"],
            },
        ],
    }


def _lessons() -> dict[str, dict[str, Any]]:
    return {
        "01-welkom.md": {
            "slug": "welkom",
            "title": "Welkom",
            "estimated_minutes": 5,
            "free_preview": True,
            "video": {"provider": "youtube", "id": "aBcDeFgHiJk", "title": "Kennismaking"},
            "steps": [{"kind": "text", "title": "Zo werkt het", "body": "Lees dit eerst."}],
        },
        "02-aanspannen.md": {
            "slug": "aanspannen",
            "title": "Langzaam aanspannen",
            "estimated_minutes": 8,
            "steps": [
                {"kind": "text", "body": "Ga comfortabel liggen."},
                {
                    "kind": "exercise",
                    "title": "Langzaam aanspannen",
                    "body": "Span aan alsof je een plas ophoudt.",
                    "hold_seconds": 8,
                    "relax_seconds": 8,
                    "reps": 10,
                    "sets": 3,
                    "rest_seconds": 30,
                    "side": "both",
                    "cues": ["Adem door", "Billen ontspannen"],
                },
            ],
        },
        "03-ademen.md": {
            "slug": "ademen",
            "title": "Rustig ademen",
            "estimated_minutes": 6,
            "steps": [
                {
                    "kind": "breathing",
                    "title": "In 4, uit 6",
                    "inhale_seconds": 4,
                    "exhale_seconds": 6,
                    "cycles": 10,
                },
            ],
        },
    }


@dataclass
class PackageFiles:
    """The content of a package as plain data; change it, then write() it."""

    course: dict[str, Any] = field(default_factory=lambda: _course(SLUG))
    lessons: dict[str, dict[str, Any]] = field(default_factory=_lessons)
    bodies: dict[str, str] = field(default_factory=dict)
    # Lesson files that stay listed in course.yaml but are not written, to test a missing file.
    unwritten: set[str] = field(default_factory=set)
    # Files in the package's media/ folder, by name.
    media: dict[str, bytes] = field(default_factory=dict)
    # questionnaires/<slug>.yaml, by slug.
    questionnaires: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return str(self.course["slug"])

    def step(self, file_name: str, index: int) -> dict[str, Any]:
        """One step of a lesson's front matter, to change in place."""
        steps: list[dict[str, Any]] = self.lessons[file_name]["steps"]
        return steps[index]

    def write(self, parent: Path, *, folder: str | None = None) -> Path:
        """Write the package as `<parent>/<folder or slug>/` and return that folder."""
        root = parent / (folder or self.slug)
        (root / "lessons").mkdir(parents=True, exist_ok=True)
        (root / "course.yaml").write_text(_yaml(self.course), encoding="utf-8")
        for name, meta in self.lessons.items():
            if name in self.unwritten:
                continue
            body = self.bodies.get(name, f"Uitleg bij *{meta.get('title')}*.\n\nNog een alinea.")
            text = f"---\n{_yaml(meta)}---\n{body}\n"
            (root / "lessons" / name).write_text(text, encoding="utf-8")
        if self.media:
            (root / "media").mkdir(exist_ok=True)
        for name, data in self.media.items():
            (root / "media" / name).write_bytes(data)
        if self.questionnaires:
            (root / "questionnaires").mkdir(exist_ok=True)
        for slug, questionnaire in self.questionnaires.items():
            (root / "questionnaires" / f"{slug}.yaml").write_text(
                _yaml(questionnaire), encoding="utf-8"
            )
        return root

    def copy(self) -> "PackageFiles":
        return copy.deepcopy(self)


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# The first bytes of an MP4 file (an `ftyp` box of brand isom), then filler: what Kern checks.
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 8


def jpeg(colour: tuple[int, int, int] = (200, 120, 90)) -> bytes:
    """A small real JPEG photo."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def check_in_questionnaire(slug: str = "bekkenbodem-check-in") -> dict[str, Any]:
    """A questionnaire of every kind of question, sub-scores, bands and mean scoring."""
    return {
        "slug": slug,
        "title": "Bekkenbodem check-in",
        "language": "nl",
        "status": "published",
        "self_test": True,
        "intro": "Vijf korte vragen over **deze week**.\n\nDuurt twee minuten.\n",
        "scoring": "mean",
        "better": "lower",
        "meaningful_change": 1.5,
        "items": [
            {
                "kind": "scale",
                "key": "hinder",
                "text": "Hoeveel last had je deze week?",
                "min_label": "Geen last",
                "max_label": "Heel veel last",
            },
            {
                "kind": "single",
                "key": "hoe-vaak",
                "text": "Hoe vaak verloor je urine?",
                "options": [
                    {"label": "Nooit", "points": 0},
                    {"label": "Eens per week", "points": 1},
                    {"label": "Elke dag", "points": 4},
                ],
            },
            {
                "kind": "multiple",
                "key": "wanneer",
                "text": "Wanneer gebeurde het?",
                "options": [
                    {"label": "Bij hoesten", "points": 1},
                    {"label": "Bij sporten", "points": 2},
                ],
            },
            {"kind": "warning", "key": "koorts", "text": "Had je koorts?"},
            {"kind": "text", "key": "opmerking", "text": "Wil je nog iets kwijt?"},
        ],
        "subscores": [{"key": "lekken", "title": "Lekken", "items": ["hoe-vaak", "wanneer"]}],
        "bands": [
            {"min": 0, "max": 2.4, "title": "Weinig last", "text": "Ga *zo* door."},
            {"min": 2.5, "max": 5.7, "title": "Veel last", "course": SLUG},
        ],
    }


def minimal_package() -> PackageFiles:
    """A valid package: two modules, three lessons, text, exercise and breathing steps."""
    return PackageFiles()


def line_of(path: Path, needle: str, *, nth: int = 1) -> int:
    """The number of the nth line of `path` that contains `needle`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = [number for number, line in enumerate(lines, start=1) if needle in line]
    if len(found) < nth:
        raise AssertionError(f"{needle!r} is not {nth} times in {path}")
    return found[nth - 1]
