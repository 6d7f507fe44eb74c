"""The write-path shortcuts change nothing a client can see.

managedFields entries a write leaves alone keep their stored FieldsV1 (only when it is exactly
what encoding would give), the decode walk's memoised timestamps and quantities never hide an
error, and pod validation's orjson copy falls back to the stdlib where orjson refuses.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from minikube_lite.apiserver.apply.fieldpath import FieldSet
from minikube_lite.apiserver.apply.managed_fields import (
    decode_managed_fields,
    default_reset_fields,
    update_managed_fields,
)
from minikube_lite.apiserver.schema.upstream import SchemaSet
from minikube_lite.apiserver.schema.validation.pods import _json_copy, validate_pod_update

JSON = dict[str, Any]
T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"


def pod() -> JSON:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "d", "labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "1"}}}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}}


def write(old: JSON | None, new: JSON, manager: str, now: str, subresource: str | None = None) -> JSON:
    return update_managed_fields(old, new, manager=manager, api_version="v1", subresource=subresource, now=now,
                                 schema=SchemaSet.load().node("v1", "Pod"),
                                 reset_fields=default_reset_fields("Pod", subresource, True))


def entries(obj: JSON) -> list[JSON]:
    out: list[JSON] = obj["metadata"]["managedFields"]
    return out


def test_an_untouched_entry_keeps_its_stored_fieldsv1() -> None:
    created = write(None, pod(), "creator", T0)
    status = copy.deepcopy(created)
    status["status"]["phase"] = "Running"
    updated = write(created, status, "kubelet", T1, "status")
    creator = next(e for e in entries(updated) if e["manager"] == "creator")
    stored = next(e for e in entries(created) if e["manager"] == "creator")
    assert creator["fieldsV1"] is stored["fieldsV1"]  # reused, not re-encoded
    assert creator == stored


def test_a_non_canonical_stored_entry_is_encoded_again() -> None:
    created = write(None, pod(), "creator", T0)
    shuffled = copy.deepcopy(created)
    doc = entries(shuffled)[0]["fieldsV1"]
    entries(shuffled)[0]["fieldsV1"] = dict(reversed(list(doc.items())))
    status = copy.deepcopy(shuffled)
    status["status"]["phase"] = "Running"
    status["metadata"].pop("managedFields")
    updated = write(shuffled, status, "kubelet", T1, "status")
    creator = next(e for e in entries(updated) if e["manager"] == "creator")
    assert json.dumps(creator["fieldsV1"]) == json.dumps(doc)  # back in smd order


def test_an_entry_that_loses_fields_is_encoded_from_what_is_left() -> None:
    created = write(None, pod(), "creator", T0)
    relabel = copy.deepcopy(created)
    relabel["metadata"]["labels"]["app"] = "b"
    relabel["metadata"].pop("managedFields")
    updated = write(created, relabel, "other", T2)
    by_manager = {e["manager"]: e for e in entries(updated)}
    assert "f:app" not in by_manager["creator"]["fieldsV1"]["f:metadata"].get("f:labels", {})
    assert by_manager["other"]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:app": {}}}}
    decoded = decode_managed_fields(entries(updated))
    assert decoded is not None and all(isinstance(e.fields, FieldSet) for e in decoded)


def test_a_create_whose_reset_status_cannot_be_walked_keeps_no_managed_fields() -> None:
    bad = pod()
    bad["status"]["conditions"].append({"status": "False"})  # no "type": no list key, no default
    assert "managedFields" not in write(None, bad, "creator", T0)["metadata"]


@pytest.mark.parametrize(("field", "good", "bad", "error"), [
    ("startTime", "2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "month out of range"),
    ("startTime", "2026-01-01T00:00:00Z", "2026-01-01 00:00:00", "cannot parse"),
])
def test_memoised_timestamps_never_hide_a_bad_one(field: str, good: str, bad: str, error: str) -> None:
    schemas = SchemaSet.load()
    ok = pod()
    ok["status"][field] = good
    assert schemas.check("v1", "Pod", ok).error is None
    assert schemas.check("v1", "Pod", ok).error is None  # now memoised
    wrong = pod()
    wrong["status"][field] = bad
    result = schemas.check("v1", "Pod", wrong)
    assert result.error is not None and error in result.error.message


def test_memoised_quantities_and_inline_ints_never_hide_an_error() -> None:
    schemas = SchemaSet.load()
    for _ in range(2):
        assert schemas.check("v1", "Pod", pod()).error is None
    bad_quantity = pod()
    bad_quantity["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1x"
    result = schemas.check("v1", "Pod", bad_quantity)
    assert result.error is not None and "quantities must match" in result.error.message
    big = pod()
    big["spec"]["containers"][0]["ports"] = [{"containerPort": 2**31}]
    result = schemas.check("v1", "Pod", big)
    assert result.error is not None and "number 2147483648" in result.error.message
    flag = pod()
    flag["spec"]["containers"][0]["tty"] = 1
    result = schemas.check("v1", "Pod", flag)
    assert result.error is not None and "of type bool" in result.error.message


def test_pod_spec_copy_falls_back_to_the_stdlib() -> None:
    assert _json_copy({"a": [1, "x", None, True]}) == {"a": [1, "x", None, True]}
    assert _json_copy({1: "x"}) == {"1": "x"}  # orjson refuses non-string keys
    assert _json_copy({"n": 2**70}) == {"n": 2**70}  # and integers beyond 64 bits
    old, new = pod(), pod()
    new["spec"]["containers"][0]["image"] = "j"  # images may change
    assert validate_pod_update(new, old) == []
    new["spec"]["containers"][0]["name"] = "d"
    assert validate_pod_update(new, old)


def test_writes_never_change_a_decoded_field_set_shared_with_later_decodes() -> None:
    created = write(None, pod(), "creator", T0)
    before = json.dumps(entries(created))
    decoded = decode_managed_fields(copy.deepcopy(entries(created)))
    assert decoded is not None
    relabel = copy.deepcopy(created)
    relabel["metadata"]["labels"] = {"app": "b", "tier": "x"}
    relabel["spec"]["containers"][0]["image"] = "j"
    relabel["metadata"].pop("managedFields")
    write(created, relabel, "other", T1)
    again = decode_managed_fields(copy.deepcopy(entries(created)))
    assert again is not None
    assert [e.fields.to_fieldsv1() for e in again] == [e.fields.to_fieldsv1() for e in decoded]
    assert json.dumps([e.to_json() for e in again]) == before
