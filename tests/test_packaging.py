"""The locks match pyproject.toml: every declared dependency is pinned, runtime apart from dev,
and no lock names a place (index, path) instead of a version."""

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.live import BASE_DIR

PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s#]+)")


def pins(filename: str) -> dict[str, str]:
    found = {}
    for line in (BASE_DIR / filename).read_text().splitlines():
        assert not line.startswith("-") and "file://" not in line, line
        if match := PIN.match(line):
            found[canonicalize_name(match[1])] = match[2]
        else:
            assert not line.strip() or line.startswith("#"), f"{filename}: unpinned {line!r}"
    return found


def declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(item) for item in project["dependencies"]]
    dev = [Requirement(item) for item in project["optional-dependencies"]["dev"]]
    return runtime, dev


def test_every_declared_dependency_is_pinned_within_its_range():
    runtime, dev = declared()
    everything, runtime_lock = pins("requirements.txt"), pins("requirements-runtime.txt")
    for requirement in runtime + dev:
        version = everything.get(canonicalize_name(requirement.name))
        assert version, f"{requirement.name} is not in requirements.txt: run `make lock`"
        assert requirement.specifier.contains(version), f"{requirement} vs {version}"
    for requirement in runtime:
        assert canonicalize_name(requirement.name) in runtime_lock, requirement.name
    for requirement in dev:
        assert canonicalize_name(requirement.name) not in runtime_lock, requirement.name
    assert set(runtime_lock.items()) <= set(everything.items())  # one version of each
