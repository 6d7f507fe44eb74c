"""EndpointSlice and Endpoints controllers: slices and subsets from a Service's pods, named ports,
readiness flips, terminating pods, idempotent reconcile, the kubernetes Service's endpoints."""

from __future__ import annotations

from typing import Any

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.kube.nodes import DOWN_ANNOTATION

JSON = dict[str, Any]


def service(name: str = "web", *, ports: list[JSON] | None = None, **spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"tier": "front"}},
            "spec": {"selector": {"app": name},
                     "ports": ports or [{"name": "http", "port": 80, "targetPort": "web"},
                                        {"name": "metrics", "port": 9090, "targetPort": 9100}], **spec}}


def pod(name: str, app: str = "web", *, node: str = "node1", container_port: int = 8080) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": "nginx:1.27",
                                                        "ports": [{"name": "web", "containerPort": container_port}]}]}}


async def slices_of(c: Cluster, svc: str) -> list[JSON]:
    return (await c.client.list("endpointslices.discovery.k8s.io", "default",
                                label_selector=f"kubernetes.io/service-name={svc}"))["items"]


async def test_slice_and_endpoints_follow_pods_and_named_ports() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        svc = await c.client.create("services", service(), "default")
        await c.settle()
        placeholder = await slices_of(c, "web")
        assert len(placeholder) == 1 and placeholder[0]["endpoints"] == [] and placeholder[0].get("ports") is None
        ep = await c.client.get("endpoints", "web", "default")
        assert "subsets" not in ep
        for name, node in (("web-a", "node1"), ("web-b", "node2")):
            await c.client.create("pods", pod(name, node=node), "default")
        await c.settle()
        [sl] = await slices_of(c, "web")
        meta = sl["metadata"]
        assert meta["name"].startswith("web-") and meta["generateName"] == "web-"
        assert meta["labels"] == {"tier": "front", "kubernetes.io/service-name": "web",
                                  "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
        assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "web",
                                            "uid": svc["metadata"]["uid"], "controller": True,
                                            "blockOwnerDeletion": True}]
        assert "endpoints.kubernetes.io/last-change-trigger-time" in meta["annotations"]
        assert sl["addressType"] == "IPv4"
        assert sl["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"},
                               {"name": "metrics", "port": 9100, "protocol": "TCP"}]
        pods = {p["metadata"]["name"]: p for p in (await c.client.list("pods", "default"))["items"]}
        assert [e["targetRef"]["name"] for e in sl["endpoints"]] == ["web-a", "web-b"]
        for e in sl["endpoints"]:
            p = pods[e["targetRef"]["name"]]
            assert e["addresses"] == [p["status"]["podIP"]]
            assert e["conditions"] == {"ready": True, "serving": True, "terminating": False}
            assert e["nodeName"] == p["spec"]["nodeName"] and e["zone"] == "cn-hangzhou-b"
            assert e["targetRef"] == {"kind": "Pod", "namespace": "default", "name": p["metadata"]["name"],
                                      "uid": p["metadata"]["uid"]}
        ep = await c.client.get("endpoints", "web", "default")
        [subset] = ep["subsets"]
        assert sorted(a["ip"] for a in subset["addresses"]) == sorted(p["status"]["podIP"] for p in pods.values())
        assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"},
                                   {"name": "metrics", "port": 9100, "protocol": "TCP"}]
        assert ep["metadata"]["labels"] == {"tier": "front"}
        assert "endpoints.kubernetes.io/last-change-trigger-time" in ep["metadata"]["annotations"]


async def test_pods_with_different_named_ports_get_separate_slices() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("services", service(ports=[{"port": 80, "targetPort": "web"}]), "default")
        await c.client.create("pods", pod("web-a", container_port=8080), "default")
        await c.client.create("pods", pod("web-b", container_port=8081), "default")
        await c.settle()
        slices = await slices_of(c, "web")
        assert sorted((s["ports"][0]["port"], [e["targetRef"]["name"] for e in s["endpoints"]]) for s in slices) == [
            (8080, ["web-a"]), (8081, ["web-b"])]
        assert all(s["ports"][0]["name"] == "" for s in slices)
        ep = await c.client.get("endpoints", "web", "default")
        assert sorted(s["ports"][0]["port"] for s in ep["subsets"]) == [8080, 8081]
        assert all("name" not in s["ports"][0] for s in ep["subsets"])


async def test_readiness_flip_moves_address_to_not_ready_and_back() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("services", service(), "default")
        await c.client.create("pods", pod("web-a"), "default")
        await c.settle()
        await c.client.patch("nodes", "node1", {"metadata": {"annotations": {DOWN_ANNOTATION: "true"}}})
        await c.settle()
        [sl] = await slices_of(c, "web")
        assert sl["endpoints"][0]["conditions"] == {"ready": False, "serving": False, "terminating": False}
        ep = await c.client.get("endpoints", "web", "default")
        assert "addresses" not in ep["subsets"][0]
        assert ep["subsets"][0]["notReadyAddresses"][0]["targetRef"]["name"] == "web-a"
        await c.client.patch("nodes", "node1", {"metadata": {"annotations": {DOWN_ANNOTATION: None}}})
        await c.settle()
        [sl] = await slices_of(c, "web")
        assert sl["endpoints"][0]["conditions"] == {"ready": True, "serving": True, "terminating": False}
        ep = await c.client.get("endpoints", "web", "default")
        assert "notReadyAddresses" not in ep["subsets"][0] and len(ep["subsets"][0]["addresses"]) == 1


async def test_terminating_pod_is_serving_but_not_ready_then_gone() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("services", service(), "default")
        await c.client.create("pods", pod("web-a"), "default")
        await c.settle()
        await c.client.delete("pods", "web-a", "default", grace_period_seconds=30)
        for _ in range(50):
            [sl] = await slices_of(c, "web")
            if sl["endpoints"] and sl["endpoints"][0]["conditions"]["terminating"]:
                break
            await c.clock.advance(0)
        assert sl["endpoints"][0]["conditions"] == {"ready": False, "serving": True, "terminating": True}
        await c.settle()
        [sl] = await slices_of(c, "web")
        assert sl["endpoints"] == []
        ep = await c.client.get("endpoints", "web", "default")
        assert "subsets" not in ep


async def test_reconcile_is_idempotent_and_selector_removal_deletes_slices() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("services", service(), "default")
        await c.client.create("pods", pod("web-a"), "default")
        await c.settle()
        [before] = await slices_of(c, "web")
        controller = next(x for x in c.controllers if x.name == "endpointslice-controller")
        endpoints_ctl = next(x for x in c.controllers if x.name == "endpoints-controller")
        ep_before = await c.client.get("endpoints", "web", "default")
        for _ in range(3):
            await controller.reconcile("default/web")
            await endpoints_ctl.reconcile("default/web")
        await c.settle()
        [after] = await slices_of(c, "web")
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        ep_after = await c.client.get("endpoints", "web", "default")
        assert ep_after["metadata"]["resourceVersion"] == ep_before["metadata"]["resourceVersion"]
        await c.client.patch("services", "web", {"spec": {"selector": None}}, "default")
        await c.settle()
        assert await slices_of(c, "web") == []


async def test_headless_service_hostnames_and_deletion_cascades() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("services", service(clusterIP="None"), "default")
        body = pod("web-0")
        body["spec"].update({"hostname": "web-0", "subdomain": "web"})
        await c.client.create("pods", body, "default")
        await c.settle()
        [sl] = await slices_of(c, "web")
        assert sl["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
        assert sl["endpoints"][0]["hostname"] == "web-0"
        ep = await c.client.get("endpoints", "web", "default")
        assert ep["subsets"][0]["addresses"][0]["hostname"] == "web-0"
        await c.client.delete("services", "web", "default")
        await c.settle()
        assert await slices_of(c, "web") == []
        assert not (await c.client.list("endpoints", "default", field_selector="metadata.name=web"))["items"]


async def test_kubernetes_service_points_at_the_api_server() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.settle()
        master = await c.client.get("nodes", "master")
        ip = next(a["address"] for a in master["status"]["addresses"] if a["type"] == "InternalIP")
        ep = await c.client.get("endpoints", "kubernetes", "default")
        assert ep["subsets"] == [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": 6443,
                                                                         "protocol": "TCP"}]}]
        [sl] = await slices_of(c, "kubernetes")
        assert sl["metadata"]["name"] == "kubernetes"
        assert sl["endpoints"] == [{"addresses": [ip], "conditions": {"ready": True}}]
