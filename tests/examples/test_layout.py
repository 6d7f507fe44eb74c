"""The examples directory keeps its shape: numbered examples, each with a README, a script and
YAML the script really uses, all listed in the index (DESIGN habit 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NUMBERED = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and re.match(r"\d\d-", p.name))


def test_examples_are_numbered_in_order() -> None:
    assert [p.name[:2] for p in NUMBERED] == [f"{i:02d}" for i in range(1, len(NUMBERED) + 1)]
    assert len(NUMBERED) >= 3


@pytest.mark.parametrize("example", NUMBERED, ids=lambda p: p.name)
def test_example_has_readme_script_and_used_yaml(example: Path) -> None:
    script = (example / "run.sh").read_text()
    assert (example / "run.sh").stat().st_mode & 0o111, "run.sh must be executable"
    assert script.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in script
    readme = (example / "README.md").read_text()
    assert "## What it printed" in readme
    for manifest in sorted(example.glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
        assert docs and all("apiVersion" in d and "kind" in d for d in docs), manifest.name
        assert manifest.name in script, f"{manifest.name} is not used by run.sh"
        assert manifest.name in readme, f"{manifest.name} is not explained in README.md"


def test_index_lists_every_example() -> None:
    index = (EXAMPLES / "README.md").read_text()
    for example in NUMBERED:
        assert f"({example.name}/README.md)" in index
