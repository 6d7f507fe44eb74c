"""The OpenAPI generator: deterministic, up to date, and never needed at run time."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "generate_openapi.py"
GENERATED = REPO / "minikube_lite" / "openapi" / "definitions.json"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_openapi", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": ["string", "null"]}, {"type": "string"}),
    ({"$ref": "#/$defs/io.k8s.api.core.v1.PodSpec"}, {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}),
    ({"$ref": "#/$defs/a.B", "description": "d"},
     {"allOf": [{"$ref": "#/components/schemas/a.B"}], "description": "d"}),
    ({"properties": {"apiVersion": {"type": ["string", "null"], "enum": ["v1"]},
                     "mode": {"type": "string", "enum": ["A", "B"]}}},
     {"properties": {"apiVersion": {"type": "string"}, "mode": {"type": "string", "enum": ["A", "B"]}}}),
    ({"items": {"type": ["integer", "null"], "format": "int32"}, "type": ["array", "null"],
      "x-kubernetes-list-type": "atomic"},
     {"items": {"type": "integer", "format": "int32"}, "type": "array", "x-kubernetes-list-type": "atomic"}),
])
def test_convert(schema: dict[str, object], expected: dict[str, object]) -> None:
    assert _load_script().convert(schema) == expected


def test_generated_file_is_compact_sorted_and_small() -> None:
    text = GENERATED.read_text()
    data = json.loads(text)
    assert data["kubernetes"] == "v1.35.0"
    assert json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n" == text
    assert len(text) < 2_000_000
    schemas = data["schemas"]
    assert "io.k8s.api.core.v1.Pod" in schemas and "io.k8s.api.storage.v1.StorageClass" in schemas
    assert "io.k8s.api.batch.v1.Job" in schemas
    # only what we serve: beta and alpha groups stay out, as 1.35 leaves them off by default
    assert "io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicy" not in schemas
    assert "$defs" not in text and '"null"' not in text


def test_generated_file_is_up_to_date() -> None:
    pytest.importorskip("kubernetes_validate")
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_runtime_does_not_import_kubernetes_validate() -> None:
    code = ("import sys; from minikube_lite.apiserver.schema.upstream import SchemaSet; SchemaSet.load().node('v1', 'Pod'); "
            "import minikube_lite.apiserver.wire.openapi, minikube_lite.apiserver.schema.crd; "
            "print('kubernetes_validate' in sys.modules, 'jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False False"
