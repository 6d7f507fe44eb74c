"""FieldsV1 encoding, field-set algebra, managedFields entries and Update bookkeeping."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from _ssa_schema import SCHEMAS, MiniServer, entry, managers

from minikube_lite.apiserver.apply import managed_fields as mf
from minikube_lite.apiserver.apply.fieldpath import (
    FieldPathError,
    FieldSet,
    encode_fieldsv1,
    field,
    go_json,
    index,
    key,
    path_string,
    pe_from_string,
    pe_to_string,
    value,
)

NOW = "2026-11-27T11:00:00Z"
LATER = "2026-11-27T11:00:05Z"


def P(*pes: Any) -> tuple:
    return tuple(pes)


# --- FieldsV1 -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("pe", "text"), [
    (field("kubectl.kubernetes.io/last-applied-configuration"), "f:kubectl.kubernetes.io/last-applied-configuration"),
    (key({"protocol": "TCP", "containerPort": 80}), 'k:{"containerPort":80,"protocol":"TCP"}'),
    (value("kubernetes.io/pv-protection"), 'v:"kubernetes.io/pv-protection"'),
    (value(3), "v:3"),
    (value(True), "v:true"),
    (index(4), "i:4"),
    (key({"name": "<a&b>"}), 'k:{"name":"\\u003ca\\u0026b\\u003e"}'),
])
def test_path_element_text_round_trips(pe: Any, text: str) -> None:
    assert pe_to_string(pe) == text
    assert pe_from_string(text) == pe


@pytest.mark.parametrize("bad", ["x", "q:1", "k:[1]", "k:{}", "k:{bad", "v:{", "i:x"])
def test_bad_path_elements_raise(bad: str) -> None:
    with pytest.raises(FieldPathError):
        pe_from_string(bad)


def test_bool_and_number_elements_stay_distinct() -> None:
    assert value(True) != value(1)
    assert key({"a": 1}) != key({"a": True})


@pytest.mark.parametrize(("path", "text"), [
    (P(field("spec"), field("template"), field("spec"), field("containers"), key({"name": "nginx"}),
       field("image")), '.spec.template.spec.containers[name="nginx"].image'),
    (P(field("ports"), key({"protocol": "TCP", "containerPort": 80})), '.ports[containerPort=80,protocol="TCP"]'),
    (P(field("metadata"), field("finalizers"), value("kubernetes.io/pv-protection")),
     '.metadata.finalizers[="kubernetes.io/pv-protection"]'),
    (P(field("args"), index(2)), ".args[2]"),
])
def test_path_string(path: tuple, text: str) -> None:
    assert path_string(path) == text


def test_encoding_order_and_dot_markers() -> None:
    fs = FieldSet.of(
        P(field("ports"), key({"containerPort": 100, "protocol": "TCP"})),
        P(field("ports"), key({"containerPort": 53, "protocol": "UDP"})),
        P(field("ports"), key({"containerPort": 53, "protocol": "UDP"}), field("name")),
        P(field("fin"), value("b")), P(field("fin"), value(2)), P(field("fin"), value("a")),
        P(field("b")), P(field("a"), field("x")), P(field("a")),
    )
    assert encode_fieldsv1(fs) == (
        '{"f:a":{".":{},"f:x":{}},"f:b":{},"f:fin":{"v:2":{},"v:\\"a\\"":{},"v:\\"b\\"":{}},'
        '"f:ports":{"k:{\\"containerPort\\":53,\\"protocol\\":\\"UDP\\"}":{".":{},"f:name":{}},'
        '"k:{\\"containerPort\\":100,\\"protocol\\":\\"TCP\\"}":{}}}')
    assert FieldSet.from_fieldsv1(fs.to_fieldsv1()) == fs


def test_parse_fieldsv1_text_and_legacy_index() -> None:
    fs = FieldSet.from_fieldsv1('{"f:args":{"i:0":{}},"f:spec":{".":{},"f:x":{}}}')
    assert fs.has(P(field("args"), index(0)))
    assert fs.has(P(field("spec"))) and fs.has(P(field("spec"), field("x")))
    assert not fs.has(P(field("args")))


@pytest.mark.parametrize("bad", ['{"f:a":1}', "[]", "nope", '{"zz":{}}'])
def test_bad_fieldsv1_raises(bad: str) -> None:
    with pytest.raises(FieldPathError):
        FieldSet.from_fieldsv1(bad)


def test_go_json_escaping() -> None:
    assert go_json({"b": 1.0, "a": "<x>&"}) == '{"a":"\\u003cx\\u003e\\u0026","b":1}'
    assert go_json(["é", None, True]) == '["é",null,true]'


# --- set algebra --------------------------------------------------------------------------------

A = P(field("a"))
AB = P(field("a"), field("b"))
AC = P(field("a"), field("c"))
D = P(field("d"))


@pytest.mark.parametrize(("op", "left", "right", "expected"), [
    ("union", [A], [AB], [A, AB]),
    ("intersection", [A, AB, D], [AB, D], [AB, D]),
    ("difference", [A, AB, AC], [A, AB], [AC]),
    ("difference", [AB], [A], [AB]),  # path-exact: a parent does not remove children
    ("recursive_difference", [AB, AC, D], [A], [D]),
])
def test_set_operations(op: str, left: list, right: list, expected: list) -> None:
    result = getattr(FieldSet.of(*left), op)(FieldSet.of(*right))
    assert sorted(result.paths()) == sorted(expected)
    assert not any(c.empty() for c in result.children.values())


def test_paths_iterate_members_before_children() -> None:
    fs = FieldSet.of(AB, D, A)
    assert list(fs.paths()) == [A, D, AB]
    assert len(fs) == 3 and fs.has(AB) and AB in fs


def test_leaves_and_with_prefix() -> None:
    fs = FieldSet.of(A, AB, D)
    assert sorted(fs.leaves().paths()) == [AB, D]
    assert list(fs.with_prefix(A).paths()) == [P(field("b"))]


# --- entries ------------------------------------------------------------------------------------

def raw(manager: str, op: str = "Update", api: str = "v1", t: str | None = NOW, sub: str = "",
        fields: Any = None) -> dict:
    e: dict[str, Any] = {"manager": manager, "operation": op, "apiVersion": api, "fieldsType": "FieldsV1",
                         "fieldsV1": fields if fields is not None else {"f:data": {"f:a": {}}}}
    if t:
        e["time"] = t
    if sub:
        e["subresource"] = sub
    return e


def test_identity_strings() -> None:
    assert mf.identity("kubectl", "Apply", "apps/v1") == '{"manager":"kubectl","operation":"Apply"}'
    assert mf.identity("kube-controller-manager", "Update", "v1", "status") == (
        '{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","subresource":"status"}')


@pytest.mark.parametrize(("e", "printed"), [
    (mf.Entry("kubelet", "Update", "v1", subresource="status"), '"kubelet" with subresource "status" using v1'),
    (mf.Entry("kubectl", "Apply", "v1"), '"kubectl"'),
    (mf.Entry("curl", "Update", "apps/v1"), '"curl" using apps/v1'),
])
def test_printed_manager(e: mf.Entry, printed: str) -> None:
    assert e.printed() == printed


@pytest.mark.parametrize("bad", [
    {**raw("m"), "operation": "Patch"},
    {**raw("m"), "apiVersion": ""},
    {**raw("m"), "fieldsType": "FieldsV2"},
    {**raw("m"), "fieldsV1": {"f:a": 1}},
    {k: v for k, v in raw("m").items() if k != "fieldsV1"},
    {**raw("m"), "time": "yesterday"},
    "not-an-entry",
])
def test_invalid_entries_invalidate_the_list(bad: Any) -> None:
    assert mf.decode_managed_fields([raw("ok"), bad]) is None


def test_duplicate_identities_collapse_last_wins() -> None:
    out = mf.decode_managed_fields([raw("m", fields={"f:data": {"f:a": {}}}),
                                    raw("m", fields={"f:data": {"f:b": {}}})])
    assert out is not None and len(out) == 1
    assert out[0].fields.to_fieldsv1() == {"f:data": {"f:b": {}}}
    applies = mf.decode_managed_fields([raw("m", "Apply", "v1"), raw("m", "Apply", "v2")])
    assert applies is not None and [e.api_version for e in applies] == ["v2"]


def test_sort_order() -> None:
    entries = mf.decode_managed_fields([
        raw("z", t=NOW), raw("b", t=LATER), raw("a", t=LATER), raw("x", "Apply", t=LATER), raw("y", "Apply", t=None),
        raw("a", api="v2", t=LATER), raw("a", t=LATER, sub="status")])
    assert entries is not None
    assert [(e.manager, e.api_version, e.subresource) for e in mf.sort_entries(entries)] == [
        ("y", "v1", ""), ("x", "v1", ""), ("z", "v1", ""), ("a", "v1", ""), ("a", "v1", "status"),
        ("a", "v2", ""), ("b", "v1", "")]


def test_encode_drops_empty_entries_and_keeps_key_order() -> None:
    out = mf.encode_managed_fields([mf.Entry("a", "Update", "v1", FieldSet(), time=NOW),
                                    mf.Entry("b", "Update", "v1", FieldSet.of(A), "status", NOW)])
    assert out == [{"manager": "b", "operation": "Update", "apiVersion": "v1", "time": NOW,
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:a": {}}, "subresource": "status"}]
    assert list(out[0]) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource"]


@pytest.mark.parametrize(("raw_value", "reset"), [([], True), ([{}], True), (None, False), ([{}, {}], False),
                                                   ([raw("m")], False), ({}, False)])
def test_is_reset(raw_value: Any, reset: bool) -> None:
    assert mf.is_reset(raw_value) is reset


def test_cap_folds_oldest_updates_per_version() -> None:
    entries = [mf.Entry(f"u{i:02d}", "Update", "v1", FieldSet.of(P(field("l"), field(f"k{i}"))),
                        time=f"2026-11-27T11:00:{i:02d}Z") for i in range(13)]
    entries.append(mf.Entry("app", "Apply", "v1", FieldSet.of(D), time=NOW))
    out = mf.cap_update_managers(entries)
    names = sorted(e.manager for e in out)
    assert len([e for e in out if e.operation == "Update"]) == 10
    assert "ancient-changes" in names and "app" in names
    bucket = next(e for e in out if e.manager == "ancient-changes")
    assert sorted(p[1][1] for p in bucket.fields.paths()) == ["k0", "k1", "k2", "k3"]
    assert bucket.time == "2026-11-27T11:00:03Z"
    assert [n for n in names if n.startswith("u")] == [f"u{i:02d}" for i in range(4, 13)]


# --- update bookkeeping ---------------------------------------------------------------------------

def _cm(**extra: Any) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default", "uid": "u",
                                                                   "resourceVersion": "1"}, **extra}


def upd(old: dict | None, new: dict, manager: str = "m", now: str = NOW, kind: str = "ConfigMap",
        **kw: Any) -> dict:
    return mf.update_managed_fields(old, new, manager=manager, api_version="apps/v1" if kind == "Deployment"
                                    else "v1", now=now, schema=SCHEMAS[kind], **kw)


def test_create_records_added_fields_with_go_shaped_zero() -> None:
    new = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"a": "b"}},
           "spec": {"replicas": 1, "template": {"spec": {"containers": [
               {"name": "c", "image": "i", "env": [{"name": "E", "value": "1"}]}]}},
               "strategy": {"rollingUpdate": {"maxSurge": "25%"}}}}
    out = upd(None, new, kind="Deployment", manager="create")
    e = out["metadata"]["managedFields"][0]
    assert (e["manager"], e["operation"], e["apiVersion"], e["time"]) == ("create", "Update", "apps/v1", NOW)
    assert e["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:a": {}}},
        "f:spec": {"f:replicas": {}, "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}},
                   "f:template": {"f:spec": {"f:containers": {".": {}, 'k:{"name":"c"}': {
                       ".": {}, "f:env": {".": {}, 'k:{"name":"E"}': {".": {}, "f:name": {}, "f:value": {}}},
                       "f:image": {}, "f:name": {}}}}}}}


def test_merge_patch_adding_labels_marks_new_map() -> None:
    old = upd(None, _cm(data={"x": "1"}), manager="creator")
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"team": "a"}
    out = upd(old, new, manager="labeler", now=LATER)
    assert entry(out, "labeler")["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}
    assert entry(out, "creator")["fieldsV1"] == {"f:data": {".": {}, "f:x": {}}}


def test_removal_only_update_keeps_entry_and_time() -> None:
    old = upd(None, _cm(data={"x": "1", "y": "2"}), manager="m")
    new = copy.deepcopy(old)
    del new["data"]["y"]
    out = upd(old, new, manager="m", now=LATER)
    e = entry(out, "m")
    assert e["time"] == NOW
    assert e["fieldsV1"] == {"f:data": {".": {}, "f:x": {}}}


def test_noop_update_changes_nothing() -> None:
    old = upd(None, _cm(data={"x": "1"}), manager="m")
    out = upd(old, copy.deepcopy(old), manager="other", now=LATER)
    assert out["metadata"]["managedFields"] == old["metadata"]["managedFields"]


def test_request_managed_fields_replace_stored_unless_invalid() -> None:
    old = upd(None, _cm(data={"x": "1"}), manager="m")
    renamed = copy.deepcopy(old)
    renamed["metadata"]["managedFields"][0]["manager"] = "renamed"
    assert managers(upd(old, renamed, manager="z")) == [("renamed", "Update", "")]
    invalid = copy.deepcopy(old)
    invalid["metadata"]["managedFields"] = [{"manager": "x", "operation": "Bogus"}]
    assert managers(upd(old, invalid, manager="z")) == [("m", "Update", "")]
    omitted = copy.deepcopy(old)
    del omitted["metadata"]["managedFields"]
    assert managers(upd(old, omitted, manager="z")) == [("m", "Update", "")]


def test_subresource_write_ignores_request_managed_fields() -> None:
    old = upd(None, _cm(data={"x": "1"}), manager="m")
    new = copy.deepcopy(old)
    new["metadata"]["managedFields"] = []
    new["data"]["x"] = "2"
    out = upd(old, new, manager="s", subresource="status", now=LATER)
    assert managers(out) == [("m", "Update", ""), ("s", "Update", "status")]
    assert entry(out, "m")["fieldsV1"] == {"f:data": {}}
    assert entry(out, "s", subresource="status")["apiVersion"] == "v1"


def test_status_write_does_not_own_reset_fields() -> None:
    srv = MiniServer()
    srv.write("Pod", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                      "spec": {"containers": [{"name": "c", "image": "i"}]}}, manager="creator")
    obj = srv.get("Pod", "p")
    obj["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    obj["spec"]["nodeName"] = "node1"
    srv.tick()
    _, out = srv.write("Pod", obj, manager="kubelet", subresource="status")
    assert entry(out, "kubelet", subresource="status")["fieldsV1"] == {"f:status": {
        "f:conditions": {".": {}, 'k:{"type":"Ready"}': {".": {}, "f:status": {}, "f:type": {}}},
        "f:phase": {}}}


def test_existing_object_without_managed_fields_is_not_tracked() -> None:
    old = _cm(data={"x": "1"})
    new = _cm(data={"x": "2"})
    assert "managedFields" not in upd(old, new)["metadata"]


def test_timestamp_only_difference_is_a_noop() -> None:
    a = upd(None, _cm(data={"x": "1"}))
    b = copy.deepcopy(a)
    b["metadata"]["managedFields"][0]["time"] = LATER
    assert mf.equal_ignoring_managed_fields_timestamps(a, b)
    assert mf.restore_timestamps(a, b)["metadata"]["managedFields"][0]["time"] == NOW
    b["data"]["x"] = "2"
    assert not mf.equal_ignoring_managed_fields_timestamps(a, b)


def test_strip_and_owners_helpers() -> None:
    obj = upd(None, _cm(data={"x": "1"}), manager="m")
    assert mf.owners_of(obj, "data.x") == ["m"]
    assert "managedFields" not in mf.strip_managed_fields(obj)["metadata"]
    assert "managedFields" in obj["metadata"]


@pytest.mark.parametrize(("kind", "sub", "has_status", "expected"), [
    ("Deployment", None, True, [".status"]),
    ("ConfigMap", None, False, []),
    ("Deployment", "status", True, [".metadata.labels", ".spec"]),
    ("Pod", "status", True, [".metadata.deletionTimestamp", ".metadata.ownerReferences", ".spec"]),
    ("PersistentVolumeClaim", "status", True, [".spec"]),
    ("Deployment", "scale", True, []),
])
def test_default_reset_fields(kind: str, sub: str | None, has_status: bool, expected: list[str]) -> None:
    fs = mf.default_reset_fields(kind, sub, has_status)
    assert sorted(path_string(p) for p in fs.paths()) == expected
