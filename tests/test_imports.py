"""Imports go one way (DESIGN.md, "Layout"): the contracts in pyproject.toml hold, and each
one fails when the import it forbids is added."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess:
    """`lint-imports` over the package in `root` (not the installed one), all contracts or
    those named (their ids in pyproject.toml)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    chosen = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run([str(LINT), "--no-logo", "--no-cache", *chosen], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("module, line, contract", [
    # a family climbing to the page
    ("animator/families/svd/cost.py", "import animator.ui", "layers"),
    # one family reaching into another
    ("animator/families/wan/cost.py", "import animator.families.svd.config",
     "families-independent"),
    # a family yet to come, that no contract names
    ("animator/families/third/__init__.py", "import animator.families.wan.presets",
     "families-independent"),
    # the core reaching into a family past the registry
    ("animator/batch.py", "from animator.families.svd.config import GenerationConfig",
     "registry-only"),
    # a family asking the registry (and so, through it, the other families)
    ("animator/families/svd/cost.py", "from animator.families import preset_names",
     "families-below-registry"),
])
def test_a_forbidden_import_is_caught(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "animator", tmp_path / "animator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch()
    assert lint(tmp_path, contract).returncode == 0  # each contract holds before...
    with target.open("a") as f:
        f.write(f"\n{line}\n")
    done = lint(tmp_path, contract)
    assert done.returncode != 0 and "1 broken" in done.stdout, done.stdout[-3000:]  # ...not after


def test_app_reaches_no_family_internals():
    """app.py sits outside the package the contracts cover: it imports the page, Animator
    and the registry, never a family's modules."""
    tree = ast.parse((ROOT / "app.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert "animator.ui" in imported
    assert not [name for name in imported if name.startswith("animator.families.")]
