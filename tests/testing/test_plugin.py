"""The pytest plugin as a user meets it: in a pytest run of its own (a subprocess), like a user's project.

Covers the seed option and marker, and that an environment without pytest-asyncio (the
package installed without its ``test`` extra) can still run unrelated tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import minikube_lite

PACKAGE_ROOT = str(Path(minikube_lite.__file__).resolve().parent.parent)

# A meta-path finder that makes the test extra unimportable, as if it had never been installed.
BLOCK_TEST_EXTRA = '''
import sys

BLOCKED = ("pytest_asyncio", "hypothesis", "kubernetes", "kubernetes_asyncio", "kr8s", "lightkube")


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (blocked: the test extra is not installed)")
        return None


sys.meta_path.insert(0, _Blocker())
'''


def run_pytest(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in ``project`` with this checkout's package importable, bounded in time."""
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=project, env=full_env, capture_output=True, text=True, timeout=240)


def write(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (project / name).write_text(textwrap.dedent(text))


SEED_TESTS = '''
import pytest

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cfg-"}}


async def test_option_seeds_the_cluster(cluster):
    assert cluster.seed == 5
    created = await cluster.client.create("configmaps", CM, "default")
    with open("names.txt", "a") as f:
        f.write(created["metadata"]["name"] + "\\n")


@pytest.mark.minikube_lite(seed=9)
async def test_marker_wins(cluster):
    assert cluster.seed == 9


async def test_client_fixture_is_the_clusters_client(cluster, client):
    assert client is cluster.client


async def test_served_cluster_is_seeded_and_served(served_cluster):
    assert served_cluster.seed == 5
    assert served_cluster.url.startswith("http://127.0.0.1:")
    assert served_cluster.kubeconfig_path.exists()
'''


def test_seed_option_and_marker_reach_the_cluster(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
                     "test_seeded.py": SEED_TESTS})
    for _ in range(2):
        result = run_pytest(tmp_path, "--minikube-lite-seed", "5")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "4 passed" in result.stdout
    first, second = (tmp_path / "names.txt").read_text().split()
    assert first == second and first.startswith("cfg-")   # the same seed: the same generated name


COLLECTOR_TESTS = '''
import gc

import pytest


async def test_the_collector_runs_during_the_test(cluster):
    assert gc.isenabled()


@pytest.fixture
def collector_off():
    gc.disable()
    yield
    gc.enable()


async def test_a_collector_the_test_turned_off_stays_off(collector_off, cluster):
    assert not gc.isenabled()


def test_and_runs_after_a_cluster_test():
    assert gc.isenabled()
'''


def test_the_fixtures_leave_the_garbage_collector_as_they_found_it(tmp_path: Path) -> None:
    """The cluster starts and stops with Python's collector paused; the test body sees it as it was."""
    write(tmp_path, {"pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
                     "test_collector.py": COLLECTOR_TESTS})
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_a_run_without_cluster_tests_does_not_import_the_cluster(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
                     "test_light.py": '''
        import sys


        async def test_async_but_no_cluster():
            assert "minikube_lite.testing.plugin" in sys.modules
            assert "minikube_lite.cluster" not in sys.modules
        '''})
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_without_pytest_asyncio_unrelated_tests_still_pass(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    write(blocker, {"sitecustomize.py": BLOCK_TEST_EXTRA})
    project = tmp_path / "project"
    project.mkdir()
    write(project, {"test_unrelated.py": '''
        import sys


        def test_arithmetic():
            assert 1 + 1 == 2


        def test_the_plugin_loaded_nothing_heavy():
            assert "minikube_lite.testing.plugin" in sys.modules
            assert "pytest_asyncio" not in sys.modules
            assert "minikube_lite.cluster" not in sys.modules
        ''', "test_uses_cluster.py": '''
        def test_asks_for_a_cluster(cluster):
            pass
        '''})
    env = {"PYTHONPATH": os.pathsep.join([str(blocker), PACKAGE_ROOT]),
           # Entry points load only what is installed: without the test extra, pytest-asyncio's
           # plugin is absent and ours is loaded by its entry point (here: named with -p).
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    check = subprocess.run([sys.executable, "-c", "import pytest_asyncio"], env=dict(os.environ, **env),
                           capture_output=True, text=True, timeout=60)
    assert check.returncode != 0 and "blocked" in check.stderr   # the blocker works

    result = run_pytest(project, "-p", "minikube_lite.testing.plugin", "test_unrelated.py", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

    result = run_pytest(project, "-p", "minikube_lite.testing.plugin", "test_uses_cluster.py", env=env)
    assert result.returncode == 1
    assert "need pytest-asyncio: pip install 'minikube-lite[test]'" in result.stdout
