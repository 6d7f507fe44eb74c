"""Malformed bodies of the kubeadm types get a 400/422 Status, never a 500, and change nothing."""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.registry import _kubeadm_default_types

JSON = dict[str, Any]

CREATABLE = [rt for rt in _kubeadm_default_types() if "create" in rt.verbs and rt.kind != "Binding"]
WRONG_VALUES: list[Any] = ["x", 7, True, [1, "a"], {"a": {"b": []}}, None, -1, 1.5]

# A field each type's rules read, to be filled with values of every wrong shape.
FIELDS: dict[str, list[str]] = {
    "Role": ["rules"], "ClusterRole": ["rules", "aggregationRule"], "RoleBinding": ["roleRef", "subjects"],
    "ClusterRoleBinding": ["roleRef", "subjects"], "PriorityClass": ["value", "globalDefault", "preemptionPolicy"],
    "PodDisruptionBudget": ["spec"], "Ingress": ["spec"], "IngressClass": ["spec"], "NetworkPolicy": ["spec"],
    "RuntimeClass": ["handler", "overhead", "scheduling"], "VolumeAttributesClass": ["driverName", "parameters"],
    "HorizontalPodAutoscaler": ["spec"], "CertificateSigningRequest": ["spec"], "APIService": ["spec"],
}


def body_for(rt: Any, name: str = "bad") -> JSON:
    return {"apiVersion": rt.api_version, "kind": rt.kind, "metadata": {"name": name}}


def nested_garbage(field: str) -> list[JSON]:
    """Plausible shapes with wrong leaves: the paths validation walks into."""
    if field == "spec":
        return [{"spec": {k: v}} for k in ("rules", "minAvailable", "selector", "podSelector", "scaleTargetRef",
                                           "metrics", "request", "usages", "controller", "parameters", "ingress",
                                           "egress", "defaultBackend", "tls", "group", "version", "service",
                                           "maxReplicas", "expirationSeconds", "signerName")
                for v in ("x", 5, [None], {"x": 1}, [{"a": "b"}])]
    if field in ("rules", "subjects"):
        return [{field: v} for v in ([None], [{"verbs": "get"}], [{"apiGroups": [1], "resources": {}}],
                                     [{"kind": 5, "name": ["x"]}], [[]])]
    return []


CASES: list[tuple[str, JSON]] = []
for _rt in CREATABLE:
    for _field in FIELDS.get(_rt.kind, ["spec"]):
        for _value in WRONG_VALUES:
            CASES.append((_rt.plural, {**body_for(_rt), _field: _value}))
        for _extra in nested_garbage(_field):
            CASES.append((_rt.plural, {**body_for(_rt), **_extra}))


def _resource(rt: Any) -> str:
    return f"{rt.plural}.{rt.version}.{rt.group}" if rt.group else rt.plural


async def test_wrong_shapes_are_4xx_and_store_nothing(cluster: Cluster) -> None:
    by_plural = {rt.plural: rt for rt in CREATABLE}
    rv = cluster.engine.store.resource_version
    codes: dict[int, int] = {}
    for plural, body in CASES:
        rt = by_plural[plural]
        namespace = "default" if rt.namespaced else None
        try:
            await cluster.client.create(_resource(rt), copy.deepcopy(body), namespace)
        except ApiError as err:
            assert err.code in (400, 422), (plural, body, err.code, err.message)
            codes[err.code] = codes.get(err.code, 0) + 1
            continue
        # accepted: the body was valid after all (e.g. a null field); remove it again
        await cluster.client.delete(_resource(rt), "bad", namespace)
        rv = cluster.engine.store.resource_version
    # unknown fields are dropped and nulls read as zero values, as upstream, so many bodies are accepted
    assert codes.get(400, 0) > 100 and codes.get(422, 0) > 100
    assert cluster.engine.store.resource_version == rv


@pytest.mark.parametrize("rt", CREATABLE, ids=lambda rt: rt.kind)
async def test_garbage_http_bodies_are_400(rt: Any) -> None:
    async with Cluster(serve=True, components=False) as c, aiohttp.ClientSession() as http:
        prefix = f"{c.url}/api/v1" if not rt.group else f"{c.url}/apis/{rt.group}/{rt.version}"
        url = f"{prefix}/namespaces/default/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        for payload in (b"{not json", b"[1,2]", b'"text"', b"null", b'{"metadata": 5}'):
            async with http.post(url, data=payload, headers={"Content-Type": "application/json"}) as resp:
                status = await resp.json()
                assert resp.status in (400, 422), (rt.kind, payload, resp.status, status)
                assert status["kind"] == "Status" and status["status"] == "Failure"


async def test_bad_updates_leave_the_stored_object_alone(cluster: Cluster) -> None:
    await cluster.client.create("rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}}, "default")
    current = await cluster.client.get("rolebindings", "rb", "default")
    for change in ({"roleRef": "x"}, {"subjects": {"kind": "User"}}, {"roleRef": None}, {"subjects": [5]}):
        with pytest.raises(ApiError) as info:
            await cluster.client.update("rolebindings", {**copy.deepcopy(current), **change}, "default")
        assert info.value.code in (400, 422)
    pc = await cluster.client.get("priorityclasses", "system-node-critical")
    for change in ({"value": "high"}, {"value": 1}, {"globalDefault": "yes"}):
        with pytest.raises(ApiError) as info:
            await cluster.client.update("priorityclasses", {**copy.deepcopy(pc), **change})
        assert info.value.code in (400, 422)
    assert await cluster.client.get("rolebindings", "rb", "default") == current
    assert await cluster.client.get("priorityclasses", "system-node-critical") == pc
