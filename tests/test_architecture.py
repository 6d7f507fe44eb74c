"""The tree shows the architecture: layers import only what DESIGN.md allows, and the public API is stable."""

from __future__ import annotations

import ast
from pathlib import Path

import minikube_lite

PACKAGE = Path(minikube_lite.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = list(parts[:-1]) if parts[-1] != "__init__" else list(parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def files(subpackage: str) -> list[Path]:
    return sorted((PACKAGE / subpackage).rglob("*.py"))


def test_controllers_and_scheduler_never_touch_the_store_or_engine() -> None:
    forbidden = ("minikube_lite.apiserver.storage.store", "minikube_lite.apiserver.engine", "minikube_lite.apiserver.wire.server")
    for sub in ("controllers", "scheduler"):
        for path in files(sub):
            bad = {m for m in imports_of(path) if m.startswith(forbidden)}
            assert not bad, f"{sub}/{path.name} imports {bad}"


def test_why_pending_reads_only_through_the_client() -> None:
    """The dry run must not reach around the API: no store, engine or server, no controllers."""
    path = PACKAGE / "scheduler" / "why_pending.py"
    bad = {m for m in imports_of(path) if m.startswith(("minikube_lite.apiserver", "minikube_lite.controllers",
                                                        "minikube_lite.cluster"))}
    assert not bad, f"why_pending imports {bad}"


def test_cloud_knows_nothing_of_kubernetes() -> None:
    """The mock cloud is a cloud: disks, snapshots, instances. Its config is its own (cloud/config.py);
    the cluster's config embeds it, never the other way round."""
    kubernetes = ("minikube_lite.apiserver", "minikube_lite.client", "minikube_lite.controllers", "minikube_lite.scheduler",
                  "minikube_lite.kube", "minikube_lite.csi", "minikube_lite.cluster", "minikube_lite.config")
    for path in files("cloud"):
        bad = {m for m in imports_of(path) if allowed(m, kubernetes)}
        assert not bad, f"cloud/{path.name} imports {bad}"


def ours(path: Path) -> set[str]:
    """The minikube_lite modules a file imports, its own subpackage excluded."""
    own = "minikube_lite." + path.relative_to(PACKAGE).parts[0]
    return {m for m in imports_of(path)
            if m.startswith("minikube_lite.") and not (m == own or m.startswith(own + "."))}


def allowed(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_config_models_use_only_the_vocabulary_and_the_cloud_config() -> None:
    """config/ describes a cluster: it reads the shared vocabulary and embeds the cloud's own config."""
    allowed_here = ("minikube_lite.kube", "minikube_lite.configmodel", "minikube_lite.cloud.config")
    for path in files("config"):
        bad = {m for m in ours(path) if not allowed(m, allowed_here)}
        assert not bad, f"config/{path.name} imports {bad}"
    assert not ours(PACKAGE / "configmodel.py"), "configmodel.py is a leaf both config/ and cloud/ use"


def test_kube_vocabulary_imports_nothing_of_ours() -> None:
    """kube/ (quantities, well-known names, selectors, volume matching) is what every layer shares."""
    for path in files("kube"):
        assert not ours(path), f"kube/{path.name} imports {ours(path)}"


def test_api_knows_nothing_of_controllers_scheduler_or_kubelet() -> None:
    forbidden = ("minikube_lite.controllers", "minikube_lite.scheduler", "minikube_lite.csi", "minikube_lite.cloud",
                 "minikube_lite.cluster", "minikube_lite.ui", "minikube_lite.client", "minikube_lite.config")
    for path in files("apiserver"):
        bad = {m for m in ours(path) if allowed(m, forbidden)}
        assert not bad, f"apiserver/{path.relative_to(PACKAGE / 'apiserver')} imports {bad}"


#: What a control loop may use besides the client and the shared vocabulary: the cluster clock (all
#: waiting goes through it) and the cluster config (timings, drivers, nodes).
#: ``logs`` is the component log capture (``klog`` lines that ``kubectl logs`` of the kube-system
#: pods shows); it imports nothing of the project's layers.
CONTROL_LOOP_BASE = ("minikube_lite.client", "minikube_lite.kube", "minikube_lite.clock", "minikube_lite.config",
                     "minikube_lite.logs")
#: Controllers that call CSI drivers do so through the CSI protocol (csi/spec.py) only.
CONTROLLERS_ALLOWED = (*CONTROL_LOOP_BASE, "minikube_lite.csi.spec")
#: ``from ..csi import spec`` names the package too; it is the protocol module being imported.
CSI_PACKAGE = "minikube_lite.csi"


def test_controllers_use_only_the_client_kube_and_the_csi_protocol() -> None:
    for path in files("controllers"):
        bad = {m for m in ours(path) if not allowed(m, CONTROLLERS_ALLOWED) and m != CSI_PACKAGE}
        assert not bad, f"controllers/{path.relative_to(PACKAGE / 'controllers')} imports {bad}"


def test_scheduler_uses_only_the_client_and_kube() -> None:
    for path in files("scheduler"):
        bad = {m for m in ours(path) if not allowed(m, CONTROL_LOOP_BASE)}
        assert not bad, f"scheduler/{path.relative_to(PACKAGE / 'scheduler')} imports {bad}"


def test_public_api() -> None:
    assert sorted(minikube_lite.__all__) == sorted(
        ["Cluster", "ClusterConfig", "ConfigError", "RealClock", "VirtualClock", "load_config"])
    for name in minikube_lite.__all__:
        assert getattr(minikube_lite, name) is not None


#: Lines past which a module needs a reason: ``# size: <why>`` as the first line after its docstring.
MODULE_LINE_LIMIT = 600
#: Not measured here: the API server (its resource handlers follow upstream's file layout) and the
#: fake kubelet's modules (``controllers/kubelet.py``, the ``kubelet/`` package).
SIZE_EXEMPT = ("apiserver/", "kubelet/", "controllers/kubelet.py")


def test_a_long_module_says_why() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        lines = path.read_text().splitlines()
        if len(lines) <= MODULE_LINE_LIMIT or rel.startswith(SIZE_EXEMPT):
            continue
        tree = ast.parse(path.read_text())
        doc = tree.body[0] if tree.body and isinstance(tree.body[0], ast.Expr) else None
        after = lines[doc.end_lineno] if doc is not None and doc.end_lineno is not None else ""
        assert after.startswith("# size: ") and len(after) > len("# size: "), \
            f"{rel} has {len(lines)} lines: split it, or say why on the line after its docstring (# size: ...)"
