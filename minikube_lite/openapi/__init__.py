"""Generated API schema data shipped with the package.

``definitions.json`` holds the upstream Kubernetes 1.35 type schemas we serve (written by
``scripts/generate_openapi.py``); ``crds/`` holds the snapshot.storage.k8s.io CRD manifests
installed at start. They live in the package so an installed wheel finds them without the
repository checkout; readers go through these helpers so nobody hard-codes the paths.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent
DEFINITIONS_PATH = DATA_DIR / "definitions.json"
CRD_DIR = DATA_DIR / "crds"

# libyaml's safe loader when PyYAML was built with it (8x faster on the 200 KB of CRDs).
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SNAPSHOT_CRD_FILES = (
    "snapshot.storage.k8s.io_volumesnapshotclasses.yaml",
    "snapshot.storage.k8s.io_volumesnapshotcontents.yaml",
    "snapshot.storage.k8s.io_volumesnapshots.yaml",
)


@lru_cache(maxsize=1)
def load_definitions() -> dict[str, Any]:
    """The generated document: ``{"kubernetes": "v1.35.0", "schemas": {name: schema}}``."""
    data: dict[str, Any] = json.loads(DEFINITIONS_PATH.read_text(encoding="utf-8"))
    return data


def snapshot_crds() -> list[dict[str, Any]]:
    """Fresh copies of the three snapshot CRD manifests (callers may mutate them)."""
    out: list[dict[str, Any]] = []
    for name in SNAPSHOT_CRD_FILES:
        for doc in yaml.load_all((CRD_DIR / name).read_text(encoding="utf-8"), Loader=_YAML_LOADER):
            if doc:
                out.append(doc)
    return out
