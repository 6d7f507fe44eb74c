"""Server-side apply: the 26 cases of server-side-apply.md §8.3, plus merge/prune details.

Each ``test_case_NN_*`` replays one upstream test through :class:`MiniServer`, which runs our
pure apply/managedFields functions in the handler order of §8.2 (apply, defaulting, no-op
check, store).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from _ssa_schema import SCHEMAS, MiniServer, entry, managers

from minikube_lite.apiserver.apply.csa_upgrade import csa_upgrade
from minikube_lite.apiserver.apply.managed_fields import LAST_APPLIED_ANNOTATION
from minikube_lite.apiserver.apply.server_side import apply, apply_detailed, gvk_string
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.schema.upstream import SchemaSet

NOW = "2026-11-27T11:00:00Z"


def cm(name: str = "test-cm", data: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> dict:
    md: dict[str, Any] = {"name": name, "namespace": "default"}
    if labels is not None:
        md["labels"] = labels
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}
    if data is not None:
        body["data"] = data
    return body


def deployment(name: str = "deployment", *, replicas: int | None = None, hostname: str | None = None,
               containers: list[dict] | None = None, labels: dict[str, str] | None = None) -> dict:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "nginx"}},
                            "template": {"metadata": {"labels": {"app": "nginx"}},
                                         "spec": {"containers": containers if containers is not None else
                                                  [{"name": "nginx", "image": "nginx:latest"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    if hostname is not None:
        spec["template"]["spec"]["hostname"] = hostname
    md: dict[str, Any] = {"name": name, "namespace": "default"}
    if labels is not None:
        md["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": md, "spec": spec}


def pod(name: str = "test-pod", labels: dict[str, str] | None = None) -> dict:
    md: dict[str, Any] = {"name": name, "namespace": "default"}
    if labels is not None:
        md["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md,
            "spec": {"containers": [{"name": "test-container", "image": "test-image"}]}}


def fields(obj: dict, manager: str, operation: str | None = None, subresource: str = "") -> dict:
    return entry(obj, manager, operation, subresource)["fieldsV1"]


def owns(obj: dict, manager: str, path: list[str], operation: str | None = None) -> bool:
    node: Any = fields(obj, manager, operation)
    for p in path:
        if not isinstance(node, dict) or p not in node:
            return False
        node = node[p]
    return True


@pytest.fixture
def srv() -> MiniServer:
    return MiniServer()


# --- §8.3 -------------------------------------------------------------------------------------

def test_case_01_apply_creates_with_apply_entry(srv: MiniServer) -> None:
    code, obj = srv.apply("ConfigMap", cm(data={"key": "value"}, labels={"test-label": "test"}),
                          manager="apply_test")
    assert code == 201
    mf = obj["metadata"]["managedFields"]
    assert mf == [{"manager": "apply_test", "operation": "Apply", "apiVersion": "v1", "time": srv.now(),
                   "fieldsType": "FieldsV1",
                   "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}}]
    assert list(mf[0]) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]


def test_case_02_updates_take_fields_and_merge_into_one_entry(srv: MiniServer) -> None:
    srv.apply("ConfigMap", cm(data={"key": "value"}, labels={"test-label": "test"}), manager="apply_test")
    srv.tick()
    srv.merge_patch("ConfigMap", "test-cm", {"data": {"new-key": "value"}}, manager="updater")
    srv.tick()
    _, obj = srv.merge_patch("ConfigMap", "test-cm", {"data": {"key": "new value"}}, manager="updater")
    mf = obj["metadata"]["managedFields"]
    assert managers(obj) == [("apply_test", "Apply", ""), ("updater", "Update", "")]
    assert mf[0]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:test-label": {}}}}
    assert mf[1]["fieldsV1"] == {"f:data": {"f:key": {}, "f:new-key": {}}}
    assert mf[1]["apiVersion"] == "v1"
    assert mf[1]["time"] == srv.now()


def test_case_03_apply_requires_field_manager() -> None:
    with pytest.raises(ApiError) as ei:
        apply(None, cm(data={"a": "b"}), manager="", api_version="v1", force=False,
              schema=SCHEMAS["ConfigMap"], now=NOW)
    err = ei.value
    assert err.code == 422 and err.reason == "Invalid"
    assert err.message == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                           "is required for apply patch")
    assert err.details == {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch",
         "field": "fieldManager"}]}


def test_case_04_conflict_then_force(srv: MiniServer) -> None:
    srv.apply("Deployment", deployment(replicas=3), manager="apply_test")
    srv.merge_patch("Deployment", "deployment", {"spec": {"replicas": 5}}, user_agent="curl/8.5.0")
    with pytest.raises(ApiError) as ei:
        srv.apply("Deployment", deployment(replicas=3), manager="apply_test")
    err = ei.value
    assert err.code == 409 and err.reason == "Conflict"
    assert err.message == 'Apply failed with 1 conflict: conflict with "curl" using apps/v1: .spec.replicas'
    assert err.status()["details"] == {"causes": [{"reason": "FieldManagerConflict",
                                                   "message": 'conflict with "curl" using apps/v1',
                                                   "field": ".spec.replicas"}]}
    code, obj = srv.apply("Deployment", deployment(replicas=3), manager="apply_test", force=True)
    assert code == 200
    assert obj["spec"]["replicas"] == 3
    assert [m for m, _, _ in managers(obj)] == ["apply_test"]


def test_case_05_noop_apply_by_new_manager_shares_fields_without_time(srv: MiniServer) -> None:
    body = cm(data={"key": "value"}, labels={"test-label": "test"})
    _, first = srv.apply("ConfigMap", body, manager="apply_test")
    srv.tick()
    code, obj = srv.apply("ConfigMap", body, manager="apply_test_2")
    assert code == 200
    assert obj["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
    assert {k: v for k, v in obj.items() if k != "metadata"} == {k: v for k, v in first.items() if k != "metadata"}
    one, two = entry(obj, "apply_test"), entry(obj, "apply_test_2")
    assert one["fieldsV1"] == two["fieldsV1"]
    assert "time" not in two and one["time"] == first["metadata"]["managedFields"][0]["time"]


def test_case_06_noop_apply_by_same_manager_changes_nothing(srv: MiniServer) -> None:
    body = cm(data={"key": "value"}, labels={"test-label": "test"})
    _, first = srv.apply("ConfigMap", body, manager="apply_test")
    srv.tick(5)
    code, again = srv.apply("ConfigMap", body, manager="apply_test")
    assert code == 200
    assert again == first
    assert srv.events == ["ADDED"]


def test_case_07_unset_exclusively_owned_fields(srv: MiniServer) -> None:
    srv.apply("Deployment", deployment(replicas=3, hostname="test-hostname"), manager="apply_test")
    _, obj = srv.apply("Deployment", deployment(), manager="apply_test")
    assert obj["spec"]["replicas"] == 1
    assert "hostname" not in obj["spec"]["template"]["spec"]
    assert not owns(obj, "apply_test", ["f:spec", "f:replicas"])
    assert not owns(obj, "apply_test", ["f:spec", "f:template", "f:spec", "f:hostname"])


def test_case_08_unset_shared_fields_keeps_them(srv: MiniServer) -> None:
    body = deployment(replicas=3, hostname="test-hostname")
    srv.apply("Deployment", body, manager="shared_owner_1")
    srv.apply("Deployment", body, manager="shared_owner_2")
    _, obj = srv.apply("Deployment", deployment(), manager="shared_owner_1")
    assert obj["spec"]["replicas"] == 3
    assert obj["spec"]["template"]["spec"]["hostname"] == "test-hostname"
    assert not owns(obj, "shared_owner_1", ["f:spec", "f:replicas"])
    assert owns(obj, "shared_owner_2", ["f:spec", "f:replicas"])
    assert owns(obj, "shared_owner_2", ["f:spec", "f:template", "f:spec", "f:hostname"])


def test_case_09_ownership_transfers_to_controller(srv: MiniServer) -> None:
    srv.apply("Deployment", deployment(replicas=3), manager="test_applier")
    put = srv.get("Deployment", "deployment")
    put["spec"]["replicas"] = 4
    srv.write("Deployment", put, manager="test_updater")
    _, obj = srv.apply("Deployment", deployment(), manager="test_applier")
    assert obj["spec"]["replicas"] == 4
    assert fields(obj, "test_updater") == {"f:spec": {"f:replicas": {}}}
    assert not owns(obj, "test_applier", ["f:spec", "f:replicas"])


def test_case_10_removes_list_items_controllers_contributed_to(srv: MiniServer) -> None:
    srv.apply("Deployment", deployment(), manager="test_applier")
    put = srv.get("Deployment", "deployment")
    put["spec"]["template"]["spec"]["containers"][0]["workingDir"] = "/home/nginx"
    _, mid = srv.write("Deployment", put, manager="test_updater")
    assert ("test_updater", "Update", "") in managers(mid)
    _, obj = srv.apply("Deployment", deployment(containers=[{"name": "other-container", "image": "other"}]),
                       manager="test_applier")
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["other-container"]
    assert [m for m, _, _ in managers(obj)] == ["test_applier"]


def test_case_11_remove_container_port(srv: MiniServer) -> None:
    ports = [{"name": "nginx", "image": "nginx:latest", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]
    _, obj = srv.apply("Deployment", deployment(containers=ports), manager="apply_test")
    assert obj["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    _, obj = srv.apply("Deployment", deployment(), manager="apply_test")
    assert "ports" not in obj["spec"]["template"]["spec"]["containers"][0]


def test_case_12_missing_key_fields_take_schema_defaults(srv: MiniServer) -> None:
    c1 = [{"name": "nginx", "image": "nginx:latest", "ports": [{"name": "foo", "containerPort": 80}]}]
    srv.apply("Deployment", deployment(containers=c1), manager="test_applier")
    c2 = [{"name": "nginx", "image": "nginx:latest",
           "ports": [{"name": "bar", "containerPort": 80, "protocol": "TCP"}]}]
    with pytest.raises(ApiError) as ei:
        srv.apply("Deployment", deployment(containers=c2), manager="test_applier_conflict")
    causes = ei.value.details["causes"]  # type: ignore[index]
    assert causes == [{"reason": "FieldManagerConflict", "message": 'conflict with "test_applier"',
                       "field": '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,'
                                'protocol="TCP"].name'}]


def test_case_13_version_mismatch(srv: MiniServer) -> None:
    srv.apply("Deployment", deployment(), manager="m")
    body = deployment()
    body["apiVersion"] = "extensions/v1beta"
    with pytest.raises(ApiError) as ei:
        srv.apply("Deployment", body, manager="m")
    assert (ei.value.code, ei.value.reason) == (400, "BadRequest")
    assert ei.value.message == "invalid object type: extensions/v1beta, Kind=Deployment"


def test_case_14_managed_fields_in_body(srv: MiniServer) -> None:
    body = cm(data={"a": "b"})
    body["metadata"]["managedFields"] = [{"manager": "x", "operation": "Apply"}]
    with pytest.raises(ApiError) as ei:
        srv.apply("ConfigMap", body, manager="m")
    assert (ei.value.code, ei.value.message) == (400, "metadata.managedFields must be nil")


def test_case_15_create_with_uid(srv: MiniServer) -> None:
    body = pod("test-pod-uid")
    body["metadata"]["uid"] = "88e00824-7f0e-11e8-94a1-c8d3ffb15800"
    with pytest.raises(ApiError) as ei:
        srv.apply("Pod", body, manager="m")
    assert (ei.value.code, ei.value.reason) == (409, "Conflict")
    assert ei.value.message == ('Operation cannot be fulfilled on pods "test-pod-uid": uid mismatch: the provided '
                                "object specified uid 88e00824-7f0e-11e8-94a1-c8d3ffb15800, and no existing "
                                "object was found")


@pytest.mark.parametrize("reset", [[{}], []])
def test_case_16_reset_managed_fields_stays_reset(srv: MiniServer, reset: list) -> None:
    srv.apply("ConfigMap", cm(data={"key": "value"}, labels={"test-label": "test"}), manager="apply_test")
    _, obj = srv.merge_patch("ConfigMap", "test-cm", {"metadata": {"managedFields": reset}}, manager="p")
    assert "managedFields" not in obj["metadata"]
    assert obj["data"] == {"key": "value"}
    _, obj = srv.merge_patch("ConfigMap", "test-cm", {"metadata": {"labels": {"test-label": "new"}}},
                             manager="p")
    assert obj["metadata"]["labels"] == {"test-label": "new"}
    assert "managedFields" not in obj["metadata"]


def test_case_17_before_first_apply(srv: MiniServer) -> None:
    srv.write("Pod", pod(labels={"app": "my-nginx"}), manager="creator")
    srv.merge_patch("Pod", "test-pod", {"metadata": {"managedFields": [{}]}}, manager="creator")
    body = pod(labels={"app": "nginx"})
    with pytest.raises(ApiError) as ei:
        srv.apply("Pod", body, manager="m")
    assert ei.value.details["causes"] == [  # type: ignore[index]
        {"reason": "FieldManagerConflict", "message": 'conflict with "before-first-apply" using v1',
         "field": ".metadata.labels.app"}]
    _, obj = srv.apply("Pod", body, manager="m", force=True)
    assert managers(obj) == [("m", "Apply", ""), ("before-first-apply", "Update", "")]
    assert entry(obj, "before-first-apply")["apiVersion"] == "v1"
    assert not owns(obj, "before-first-apply", ["f:metadata", "f:labels", "f:app"])
    assert owns(obj, "before-first-apply", ["f:spec", "f:containers"])


def test_case_18_many_updates_fold_into_ancient_changes(srv: MiniServer) -> None:
    srv.apply("ConfigMap", cm(data={"key": "value"}), manager="apply_test")
    for i in range(20):
        srv.tick()
        srv.merge_patch("ConfigMap", "test-cm", {"metadata": {"labels": {f"label{i}": "v"}}},
                        manager=f"updater{i}")
    obj = srv.get("ConfigMap", "test-cm")
    names = [m for m, _, _ in managers(obj)]
    assert len(names) == 11
    assert names[:2] == ["apply_test", "ancient-changes"]
    assert names[2:] == [f"updater{i}" for i in range(11, 20)]
    ancient = entry(obj, "ancient-changes")["fieldsV1"]["f:metadata"]["f:labels"]
    assert set(ancient) - {"."} == {f"f:label{i}" for i in range(11)}


def test_case_19_scale_subresource_entry(srv: MiniServer) -> None:
    srv.apply("Deployment", deployment(replicas=3), manager="manager")
    srv.tick()
    _, obj = srv.merge_patch("Deployment", "deployment", {"spec": {"replicas": 32}}, manager="manager",
                             subresource="scale")
    assert managers(obj) == [("manager", "Apply", ""), ("manager", "Update", "scale")]
    scale = entry(obj, "manager", "Update", "scale")
    assert scale["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert scale["apiVersion"] == "apps/v1"
    assert not owns(obj, "manager", ["f:spec", "f:replicas"], "Apply")


def test_case_20_same_manager_main_and_status(srv: MiniServer) -> None:
    srv.apply("Pod", pod(), manager="manager")
    srv.apply("Pod", {"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "test-pod", "namespace": "default", "labels": {"a": "a"}}},
              manager="label_manager")
    _, obj = srv.apply("Pod", {"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": "test-pod", "namespace": "default", "labels": {"b": "b"}}},
                       manager="label_manager", subresource="status")
    assert obj["metadata"]["labels"] == {"a": "a", "b": "b"}
    assert len(managers(obj)) == 3
    assert [(m, s) for m, _, s in managers(obj) if m == "label_manager"] in (
        [("label_manager", ""), ("label_manager", "status")], [("label_manager", "status"), ("label_manager", "")])
    assert fields(obj, "label_manager", "Apply", "status") == {"f:metadata": {"f:labels": {"f:b": {}}}}


def _with_finalizers(items: list[str]) -> dict:
    body = cm(data={"k": "v"})
    body["metadata"]["finalizers"] = items
    return body


def test_case_21_set_apply_update_apply_with_overlap(srv: MiniServer) -> None:
    srv.apply("ConfigMap", _with_finalizers(["a", "c"]), manager="A")
    obj = srv.get("ConfigMap", "test-cm")
    obj["metadata"]["finalizers"] = ["a", "b", "c", "d"]
    srv.write("ConfigMap", obj, manager="U")
    _, obj = srv.apply("ConfigMap", _with_finalizers(["a", "b", "c"]), manager="A")
    assert obj["metadata"]["finalizers"] == ["a", "b", "c", "d"]
    assert fields(obj, "A")["f:metadata"]["f:finalizers"] == {'v:"a"': {}, 'v:"b"': {}, 'v:"c"': {}}
    assert fields(obj, "U")["f:metadata"]["f:finalizers"] == {'v:"b"': {}, 'v:"d"': {}}


def test_case_22_set_reorder_is_not_a_change(srv: MiniServer) -> None:
    srv.apply("ConfigMap", _with_finalizers(["a", "b", "c", "d"]), manager="A")
    obj = srv.get("ConfigMap", "test-cm")
    obj["metadata"]["finalizers"] = ["a", "d", "c", "b"]
    _, mid = srv.write("ConfigMap", obj, manager="U")
    assert [m for m, _, _ in managers(mid)] == ["A"]
    _, obj = srv.apply("ConfigMap", _with_finalizers(["a", "b", "c", "d"]), manager="A")
    assert obj["metadata"]["finalizers"] == ["a", "b", "c", "d"]
    assert [m for m, _, _ in managers(obj)] == ["A"]


def test_case_23_update_takes_leaf_and_empty_apply_entry_goes(srv: MiniServer) -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "string": "string"}
    srv.apply("Widget", body, manager="A")
    obj = srv.get("Widget", "w")
    obj["string"] = "new string"
    _, obj = srv.write("Widget", obj, manager="U")
    assert managers(obj) == [("U", "Update", "")]
    assert fields(obj, "U") == {"f:string": {}}


def _csa_created(srv: MiniServer) -> None:
    last_applied = deployment(replicas=3, labels={"app": "nginx"})
    live = copy.deepcopy(last_applied)
    live["spec"]["replicas"] = 100000
    live["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(last_applied)}
    srv.write("Deployment", live, manager="kubectl-client-side-apply")


def test_case_24_upgrade_client_side_to_server_side(srv: MiniServer) -> None:
    _csa_created(srv)
    first = deployment(replicas=3, labels={"app": "nginx-changed"})
    with pytest.raises(ApiError) as ei:
        srv.apply("Deployment", first, manager="kubectl")
    assert ei.value.message == ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                                "using apps/v1: .spec.replicas")
    second = deployment(containers=[{"name": "nginx", "image": "nginx:1.27"}], labels={"app": "nginx"})
    code, obj = srv.apply("Deployment", second, manager="kubectl")
    assert code == 200
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert obj["spec"]["replicas"] == 100000
    refreshed = obj["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
    assert refreshed.endswith("\n") and json.loads(refreshed) == second


def test_case_24b_other_managers_get_no_forgiveness(srv: MiniServer) -> None:
    _csa_created(srv)
    second = deployment(containers=[{"name": "nginx", "image": "nginx:1.27"}], labels={"app": "nginx"})
    with pytest.raises(ApiError) as ei:
        srv.apply("Deployment", second, manager="not-kubectl")
    assert ".image" in ei.value.message


def test_case_25_client_rewrites_managed_fields(srv: MiniServer) -> None:
    _csa_created(srv)
    obj = srv.get("Deployment", "deployment")
    original = obj["metadata"]["managedFields"]
    rewritten = csa_upgrade(original, {"kubectl-client-side-apply"}, "kubectl")
    assert rewritten == [{**original[0], "manager": "kubectl", "operation": "Apply"}]
    patched = copy.deepcopy(obj)
    patched["metadata"]["managedFields"] = rewritten
    _, stored = srv.write("Deployment", patched, manager="kubectl")
    assert stored["metadata"]["managedFields"] == rewritten
    stale = copy.deepcopy(patched)
    stale["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as ei:
        srv.write("Deployment", stale, manager="kubectl")
    assert ei.value.code == 409


def test_kubectl_migration_steps_then_prune(srv: MiniServer) -> None:
    """§6.3 end to end: SSA, co-own the annotation, rewrite managedFields, re-apply prunes."""
    last_applied = deployment(replicas=3, hostname="h")
    live = copy.deepcopy(last_applied)
    live["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(last_applied)}
    srv.write("Deployment", live, manager="kubectl-client-side-apply")
    manifest = deployment(replicas=3)  # hostname dropped from the file
    srv.apply("Deployment", manifest, manager="kubectl")
    obj = srv.get("Deployment", "deployment")
    assert obj["spec"]["template"]["spec"]["hostname"] == "h"  # still owned by the CSA manager
    ann = obj["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
    srv.apply("Deployment", {"apiVersion": "apps/v1", "kind": "Deployment",
                             "metadata": {"name": "deployment", "namespace": "default",
                                          "annotations": {LAST_APPLIED_ANNOTATION: ann}}},
              manager="kubectl-last-applied")
    obj = srv.get("Deployment", "deployment")
    obj["metadata"]["managedFields"] = csa_upgrade(obj["metadata"]["managedFields"],
                                                   {"kubectl-client-side-apply"}, "kubectl")
    _, obj = srv.write("Deployment", obj, manager="kubectl")
    assert "kubectl-client-side-apply" not in [m for m, _, _ in managers(obj)]
    _, obj = srv.apply("Deployment", manifest, manager="kubectl")
    assert "hostname" not in obj["spec"]["template"]["spec"]
    assert LAST_APPLIED_ANNOTATION in obj["metadata"]["annotations"]


def test_case_26_conflict_message_groups_managers(srv: MiniServer) -> None:
    srv.apply("ConfigMap", cm(data={"c": "1"}), manager="m2")
    srv.merge_patch("ConfigMap", "test-cm", {"data": {"a": "1", "b": "1"}}, manager="m1")
    with pytest.raises(ApiError) as ei:
        srv.apply("ConfigMap", cm(data={"a": "2", "b": "2", "c": "2"}), manager="m3")
    assert ei.value.message == ('Apply failed with 3 conflicts: conflicts with "m1" using v1:\n- .data.a\n'
                                '- .data.b\nconflicts with "m2":\n- .data.c')
    assert [c["field"] for c in ei.value.details["causes"]] == [".data.a", ".data.b", ".data.c"]  # type: ignore


# --- details beyond §8.3 -------------------------------------------------------------------------

def test_apply_entry_of_the_worked_example() -> None:
    """§2.2: the FieldsV1 of `kubectl apply --server-side` for the example Deployment."""
    body = deployment(replicas=2, labels={"app": "web"},
                      containers=[{"name": "nginx", "image": "nginx:1.27",
                                   "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]}])
    body["metadata"]["finalizers"] = ["example.com/protect"]
    body["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    body["spec"]["template"]["metadata"]["labels"] = {"app": "web"}
    obj = apply(None, body, manager="kubectl", api_version="apps/v1", force=False, schema=SCHEMAS["Deployment"],
                now=NOW)
    from minikube_lite.apiserver.apply.fieldpath import go_json_ordered
    expected = ('{"f:metadata":{"f:finalizers":{"v:\\"example.com/protect\\"":{}},"f:labels":{"f:app":{}}},'
                '"f:spec":{"f:replicas":{},"f:selector":{},'
                '"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},'
                '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},'
                '"f:ports":{"k:{\\"containerPort\\":53,\\"protocol\\":\\"UDP\\"}":{".":{},"f:containerPort":{},'
                '"f:protocol":{}},'
                '"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}')
    assert go_json_ordered(obj["metadata"]["managedFields"][0]["fieldsV1"]) == expected


@pytest.mark.parametrize(("body_change", "message"), [
    (lambda b: b["spec"].__setitem__("foo", 1),
     "failed to create typed patch object (default/deployment; apps/v1, Kind=Deployment): "
     ".spec.foo: field not declared in schema"),
    (lambda b: b["spec"]["template"]["spec"]["containers"].append({"name": "nginx", "image": "x"}),
     "failed to create typed patch object (default/deployment; apps/v1, Kind=Deployment): "
     '.spec.template.spec.containers: duplicate entries for key [name="nginx"]'),
])
def test_bad_apply_bodies_are_400(srv: MiniServer, body_change: Any, message: str) -> None:
    body = deployment()
    body_change(body)
    with pytest.raises(ApiError) as ei:
        srv.apply("Deployment", body, manager="m")
    assert (ei.value.code, ei.value.reason, ei.value.message) == (400, "BadRequest", message)


def test_preserve_unknown_fields_accepts_anything(srv: MiniServer) -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"extra": {"any": {"thing": [1, 2]}}}}
    _, obj = srv.apply("Widget", body, manager="m")
    assert fields(obj, "m") == {"f:spec": {"f:extra": {"f:any": {".": {}, "f:thing": {}}}}}


@pytest.mark.parametrize(("live", "config", "expected"), [
    (["a", "b"], ["b", "c"], ["a", "b", "c"]),
    (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),
    ([], ["x"], ["x"]),
    (["a", "b", "c", "d"], ["a", "b", "c", "d"], ["a", "b", "c", "d"]),
    (["x", "a"], ["a", "y"], ["x", "a", "y"]),
])
def test_set_merge_order(live: list[str], config: list[str], expected: list[str]) -> None:
    from minikube_lite.apiserver.apply.typed import merge
    node = SCHEMAS["Widget"].property("spec")
    assert merge({"tags": live}, {"tags": config}, node)["tags"] == expected


def test_keyed_list_merge_keeps_live_only_items_and_merges_shared() -> None:
    from minikube_lite.apiserver.apply.typed import merge
    node = SCHEMAS["Widget"].property("spec")
    live = {"items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}], "plain": [{"name": "p"}]}
    config = {"items": [{"name": "b", "size": 3}], "plain": [{"name": "q"}]}
    out = merge(live, config, node)
    assert out == {"items": [{"name": "a", "size": 1}, {"name": "b", "size": 3}], "plain": [{"name": "q"}]}


def test_status_apply_on_missing_object_is_404(srv: MiniServer) -> None:
    with pytest.raises(ApiError) as ei:
        srv.apply("Pod", pod(), manager="m", subresource="status")
    assert ei.value.code == 404


def test_apply_status_fields_are_not_owned_on_main_resource() -> None:
    body = deployment(replicas=1)
    body["status"] = {"replicas": 9}
    from minikube_lite.apiserver.apply.managed_fields import default_reset_fields
    res = apply_detailed(None, body, manager="m", api_version="apps/v1", force=False,
                         schema=SCHEMAS["Deployment"], now=NOW,
                         reset_fields=default_reset_fields("Deployment", None, True))
    assert res.created and res.changed
    assert "f:status" not in res.object["metadata"]["managedFields"][0]["fieldsV1"]


def test_kubectl_hook_refreshes_last_applied_only_when_present(srv: MiniServer) -> None:
    _, obj = srv.apply("ConfigMap", cm(data={"a": "1"}), manager="kubectl")
    assert "annotations" not in obj["metadata"]


def test_gvk_string() -> None:
    assert gvk_string("v1", "ConfigMap") == "/v1, Kind=ConfigMap"
    assert gvk_string(None, None) == "/, Kind="
    assert gvk_string("apps/v1", "Deployment") == "apps/v1, Kind=Deployment"


# --- against the real 1.35 schemas (apiserver/schema/upstream.py) -----------------------------------------------

@pytest.fixture(scope="module")
def real() -> Any:
    return SchemaSet.load()


def test_real_schema_worked_example(real: Any) -> None:
    body = deployment(replicas=2, labels={"app": "web"},
                      containers=[{"name": "nginx", "image": "nginx:1.27",
                                   "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]}])
    obj = apply(None, body, manager="kubectl", api_version="apps/v1", force=False,
                schema=real.node("apps/v1", "Deployment"), now=NOW)
    ports = obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][
        'k:{"name":"nginx"}']["f:ports"]
    assert list(ports) == ['k:{"containerPort":53,"protocol":"UDP"}', 'k:{"containerPort":80,"protocol":"TCP"}']
    assert obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:selector"] == {}


def test_real_schema_pv_claim_ref_is_granular(real: Any) -> None:
    """Users apply claimRef name/namespace; the binder's uid write does not conflict (§3.1)."""
    node = real.node("v1", "PersistentVolume")
    body = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "hostPath": {"path": "/tmp/x"}, "claimRef": {"name": "c", "namespace": "default"}}}
    live = apply(None, body, manager="user", api_version="v1", force=False, schema=node, now=NOW)
    bound = copy.deepcopy(live)
    bound["spec"]["claimRef"]["uid"] = "1234"
    bound = mf_update(live, bound, "kube-controller-manager", node)
    again = apply(bound, body, manager="user", api_version="v1", force=False, schema=node, now=NOW)
    assert again["spec"]["claimRef"] == {"name": "c", "namespace": "default", "uid": "1234"}


def test_real_schema_service_ports_keyed_by_port_and_protocol(real: Any) -> None:
    node = real.node("v1", "Service")
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
            "spec": {"ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}]}}
    obj = apply(None, body, manager="m", api_version="v1", force=False, schema=node, now=NOW)
    assert set(obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:ports"]) == {
        'k:{"port":80,"protocol":"TCP"}', 'k:{"port":80,"protocol":"UDP"}'}


def test_real_schema_unknown_field_is_400(real: Any) -> None:
    body = cm(data={"a": "b"})
    body["spec"] = {"x": 1}
    with pytest.raises(ApiError) as ei:
        apply(None, body, manager="m", api_version="v1", force=False, schema=real.node("v1", "ConfigMap"), now=NOW)
    assert ei.value.code == 400
    assert ei.value.message == ("failed to create typed patch object (default/test-cm; /v1, Kind=ConfigMap): "
                                ".spec: field not declared in schema")


def mf_update(old: dict, new: dict, manager: str, node: Any) -> dict:
    from minikube_lite.apiserver.apply.managed_fields import update_managed_fields
    return update_managed_fields(old, new, manager=manager, api_version="v1", now=NOW, schema=node)


# --- robustness: bad input gives ApiError, never a traceback --------------------------------------

_ODD_VALUES: list[Any] = [None, 1, "x", True, [], {}, [1], ["a", "a"], [{"name": "c"}], [{"name": "c"}, {"name": "c"}],
                          [{}], [None], {"a": None}, {"name": 3}, 1.5, [[1]]]
_ODD_PATHS = [("metadata", "labels"), ("metadata", "finalizers"), ("metadata", "ownerReferences"), ("spec", "replicas"),
              ("spec", "selector"), ("spec", "template", "spec", "containers"), ("spec", "template", "spec", "hostname"),
              ("spec", "template", "spec", "tolerations"), ("spec", "strategy"), ("spec",), ("metadata",),
              ("status", "readyReplicas"), ("spec", "template", "metadata"), ("kind",), ("apiVersion",)]


@pytest.mark.parametrize("seed", range(4))
def test_odd_bodies_never_raise_anything_but_api_errors(seed: int) -> None:
    import random

    from minikube_lite.apiserver.apply.managed_fields import update_managed_fields

    rnd = random.Random(seed)
    node = SCHEMAS["Deployment"]

    def mutate(obj: dict) -> dict:
        path = rnd.choice(_ODD_PATHS)
        cur: Any = obj
        for k in path[:-1]:
            if not isinstance(cur, dict):
                return obj
            cur = cur.setdefault(k, {})
        if isinstance(cur, dict):
            cur[path[-1]] = copy.deepcopy(rnd.choice(_ODD_VALUES))
        return obj

    for _ in range(150):
        live = None
        if rnd.random() < 0.7:
            live = apply(None, deployment(replicas=2), manager="a", api_version="apps/v1", force=False,
                         schema=node, now=NOW)
        config = deployment()
        for _ in range(rnd.randint(1, 3)):
            mutate(config)
        try:
            out = apply(live, config, manager=rnd.choice(["a", "b", "kubectl"]), api_version="apps/v1",
                        force=rnd.random() < 0.5, schema=node, now=NOW)
        except ApiError as e:
            assert e.code in (400, 409, 422)
            continue
        new = mutate(copy.deepcopy(out))
        update_managed_fields(out, new, manager="u", api_version="apps/v1", now=NOW, schema=node)


def test_yaml_non_string_keys_become_json_strings() -> None:
    body = cm(data={"a": "b"})
    body["data"] = {1: "one", False: "no", 2.5: "x"}
    obj = apply(None, body, manager="m", api_version="v1", force=False, schema=SCHEMAS["ConfigMap"], now=NOW)
    assert obj["data"] == {"1": "one", "false": "no", "2.5": "x"}
