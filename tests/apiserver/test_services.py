"""Service creates: cluster IP allocation and headless Services."""

from __future__ import annotations

from minikube_lite import Cluster
from minikube_lite.apiserver.wire.tables import build_table


def service(name: str, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}], **spec}}


async def test_headless_and_chosen_cluster_ips_are_repeated_in_cluster_ips(cluster: Cluster) -> None:
    headless = await cluster.client.create("services", service("db", clusterIP="None"), "default")
    assert (headless["spec"]["clusterIP"], headless["spec"]["clusterIPs"]) == ("None", ["None"])
    chosen = await cluster.client.create("services", service("fixed", clusterIP="10.96.200.7"), "default")
    assert chosen["spec"]["clusterIPs"] == ["10.96.200.7"]
    allocated = await cluster.client.create("services", service("web"), "default")
    assert allocated["spec"]["clusterIPs"] == [allocated["spec"]["clusterIP"]] != ["None"]
    rt = cluster.engine.registry.resolve("services")
    table = build_table(rt, [headless], now=cluster.clock.now(), include_object="None", resource_version="1")
    assert table["rows"][0]["cells"][2] == "None"  # kubectl get svc: CLUSTER-IP None
