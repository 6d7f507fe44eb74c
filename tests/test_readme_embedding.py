"""The README's embedding section runs as a user would copy it: its config, its test file, its script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import minikube_lite

REPO = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = str(Path(minikube_lite.__file__).resolve().parent.parent)
SECTION_START = "### 2. Embed it in tests"
SECTION_END = "### 3."


def section_blocks() -> list[tuple[str, str]]:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(SECTION_START):readme.index(SECTION_END)]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))


def test_the_readme_pytest_example_passes_as_copied(tmp_path: Path) -> None:
    blocks = section_blocks()
    [toml] = [code for lang, code in blocks if lang == "toml"]
    test_file = next(code for lang, code in blocks if lang == "python" and "async def test_" in code)
    (tmp_path / "pyproject.toml").write_text(toml)
    (tmp_path / "test_storage.py").write_text(test_file)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_storage.py"],
                            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b3 passed\b", result.stdout), result.stdout


def test_the_readme_script_runs(tmp_path: Path) -> None:
    script = next(code for lang, code in section_blocks() if lang == "python" and "asyncio.run(main())" in code)
    (tmp_path / "embed.py").write_text(script)
    result = subprocess.run([sys.executable, "embed.py"], cwd=tmp_path, env=env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'mode': 'fast'}"
