"""The dependency rules of the layout (pyproject.toml [tool.importlinter]) hold
for the code as it is, and a deliberate violation planted in a copy of the
tree breaks the contract it should, by name."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["core", "members", "feeds", "workshops", "plnorg"]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree_copy(destination: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, destination / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_the_code_keeps_every_contract():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 7 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        (
            "members/models.py",
            "import plnorg.settings",
            [
                "Apps go one way: plnorg -> workshops -> feeds -> members -> core BROKEN",
                "No feature app below plnorg imports the project package BROKEN",
            ],
        ),
        (
            "core/permissions.py",
            "import feeds.models",
            [
                "Apps go one way: plnorg -> workshops -> feeds -> members -> core BROKEN",
                "core, the ground, imports no feature app and nothing from plnorg BROKEN",
            ],
        ),
        (
            "plnorg/introductions/services/suggestions.py",
            "import plnorg.dashboard.services",
            ["Inside plnorg: the wiring -> provisioning -> dashboard | privacy | home | chat -> introductions BROKEN"],
        ),
        (
            "plnorg/dashboard/services.py",
            "import plnorg.urls",
            ["Inside plnorg: the wiring -> provisioning -> dashboard | privacy | home | chat -> introductions BROKEN"],
        ),
        (
            "workshops/clock/services.py",
            "import workshops.models",
            ["Inside workshops: workshops -> clock"],
        ),
        (
            "plnorg/privacy/services.py",
            "import plnorg.provisioning.services.users",
            ["Inside plnorg: the wiring -> provisioning -> dashboard | privacy | home | chat -> introductions BROKEN"],
        ),
        (
            "plnorg/privacy/services.py",
            "import workshops.models",
            ["plnorg.privacy reaches the apps only through the registry in core.lifecycle BROKEN"],
        ),
        (
            "feeds/websub/services.py",
            "import feeds.ingest",
            [
                "feeds.websub uses the pipeline's parts (models, fetcher, parser, store), never the pipeline: "
                "ingest, scheduler and services call it BROKEN"
            ],
        ),
    ],
)
def test_a_planted_violation_breaks_its_contract(tmp_path, module, planted, broken):
    root = tree_copy(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by tests/test_layout.py\n")

    result = lint_imports(root)

    assert result.returncode == 1, result.stdout + result.stderr
    assert [line for line in broken if line not in " ".join(result.stdout.split())] == []
    assert planted.replace("import ", "") in result.stdout


def test_a_new_module_in_plnorg_must_be_placed_in_a_layer(tmp_path):
    root = tree_copy(tmp_path)
    (root / "plnorg" / "reports.py").write_text('"""A new module nobody placed."""\n')

    result = lint_imports(root)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "plnorg.reports" in result.stdout
