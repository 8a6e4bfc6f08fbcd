"""The lock files pin every dependency pyproject.toml declares, each with its hashes.

`make run`, `make test`, CI and the image install only from requirements/*.txt, so a dependency
added to pyproject.toml without `make lock` would be missing on a fresh machine while a machine
that installed it by hand passes; these tests fail first.
"""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)(?: ; ([^\\]+))?")


def _pins(name: str, *, here_only: bool = False) -> dict[str, str]:
    """Package → pinned version in requirements/<name>; every pin must carry a hash.

    With `here_only`, only the pins whose environment marker holds on this machine.
    """
    lines = (ROOT / "requirements" / name).read_text().splitlines()
    pins: dict[str, str] = {}
    for number, line in enumerate(lines):
        if match := PIN.match(line):
            following = lines[number + 1] if number + 1 < len(lines) else ""
            assert "--hash=sha256:" in line + following, f"{name}: {match[1]} has no hash"
            if here_only and match[3] and not Marker(match[3].strip()).evaluate():
                continue
            pins[canonicalize_name(match[1])] = match[2]
    return pins


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        ("main.txt", PROJECT["dependencies"]),
        ("dev.txt", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_declared_dependency_is_pinned_within_its_bounds(
    lock: str, declared: list[str]
) -> None:
    pins = _pins(lock)
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements/{lock}: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pins[name]}, outside {requirement.specifier}"
        )


def test_the_image_and_the_tools_install_the_same_versions() -> None:
    main, dev = _pins("main.txt"), _pins("dev.txt")
    assert {name: dev.get(name) for name in main} == main


def test_the_installed_versions_are_the_pinned_ones() -> None:
    """The environment running this suite was installed from the lock (a stale one fails)."""
    for name, pinned in _pins("dev.txt", here_only=True).items():
        installed = version(name)
        assert installed == pinned, f"{name} {installed} is installed, the lock pins {pinned}"
