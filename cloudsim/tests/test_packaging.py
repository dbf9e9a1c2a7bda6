"""The simulator brings its own requirements; the runtime requirements do without them."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def top_level_imports(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        if "tests" in path.relative_to(folder).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_runtime_requirements_leave_out_the_simulators_werkzeug():
    runtime = requirement_names(ROOT / "requirements.txt")
    simulator = requirement_names(ROOT / "cloudsim" / "requirements.txt")
    assert "werkzeug" not in runtime
    assert {"werkzeug", "markupsafe"} <= simulator


def test_the_dashboard_imports_nothing_of_the_simulators_requirements():
    for app in ("snapshots", "dashboard"):
        assert "werkzeug" not in top_level_imports(ROOT / app), app


def test_every_third_party_import_of_the_simulator_is_pinned():
    third_party = {
        name
        for name in top_level_imports(ROOT / "cloudsim")
        if name not in sys.stdlib_module_names and name not in ("cloudsim", "scripts")
    }
    pinned = requirement_names(ROOT / "cloudsim" / "requirements.txt") | requirement_names(
        ROOT / "requirements-dev.txt"
    )
    # the server needs werkzeug (and kombu, pinned at run time, for Cinder's notifications);
    # cloudsim.testing (a client) uses requests
    assert third_party == {"werkzeug", "requests", "kombu"}
    assert third_party <= pinned | requirement_names(ROOT / "requirements.txt")


def test_dev_and_make_run_install_the_simulators_requirements():
    assert "-r cloudsim/requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: install-sim$", makefile, re.M)
    assert "pip install --quiet -r cloudsim/requirements.txt" in makefile
