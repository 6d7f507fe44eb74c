"""pvc-protection and pv-protection (storage.md §1.11), through the API."""

from __future__ import annotations

from typing import Any

from _storage_builders import pod, pv, pvc

from minikube_lite.controllers.volume.protection import pod_uses_claim
from minikube_lite.kube import names

JSON = dict[str, Any]
NS = "default"


async def exists(c: Any, resource: str, name: str, namespace: str | None = None) -> bool:
    listing = await c.client.list(resource, namespace, field_selector=f"metadata.name={name}")
    return bool(listing["items"])


async def bound_claim(c: Any, name: str = "claim") -> None:
    await c.client.create("persistentvolumes", pv(f"{name}-pv", "1Gi"))
    await c.client.create("pvc", pvc(name, "1Gi", sc=""), NS)
    await c.settle()
    assert (await c.client.get("pvc", name, NS))["status"]["phase"] == "Bound"


async def test_1_11_unused_claim_is_removed_at_once(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        assert not await exists(c, "pvc", "claim", NS)


async def test_1_11_claim_kept_while_scheduled_pod_uses_it(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        await c.client.create("pods", pod("app", "claim", node="node1"), NS)
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        claim = await c.client.get("pvc", "claim", NS)
        assert claim["metadata"]["deletionTimestamp"]
        assert claim["metadata"]["finalizers"] == [names.PVC_PROTECTION_FINALIZER]
        await c.client.delete("pods", "app", NS, grace_period_seconds=0)
        await c.settle()
        assert not await exists(c, "pvc", "claim", NS)
        # The claim is gone, so its Retain volume is Released and pv-protection lets it be deleted.
        volume = await c.client.get("persistentvolumes", "claim-pv")
        assert volume["status"]["phase"] == "Released"


async def test_1_11_unscheduled_pod_does_not_block(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        await c.client.create("pods", pod("pending", "claim"), NS)
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        assert not await exists(c, "pvc", "claim", NS)


async def test_1_11_terminal_pod_still_blocks_until_deleted(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        created = await c.client.create("pods", pod("job", "claim", node="node1"), NS)
        created["status"] = {**created.get("status", {}), "phase": "Succeeded"}
        await c.client.update("pods", created, NS, subresource="status")
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        assert await exists(c, "pvc", "claim", NS)
        await c.client.delete("pods", "job", NS)
        await c.settle()
        assert not await exists(c, "pvc", "claim", NS)


async def test_1_11_pod_in_other_namespace_does_not_block(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        await c.client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
        await c.client.create("pods", pod("app", "claim", node="node1"), "other")
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        assert not await exists(c, "pvc", "claim", NS)


async def test_1_11_bound_volume_kept_until_released(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        await c.client.delete("persistentvolumes", "claim-pv")
        await c.settle()
        volume = await c.client.get("persistentvolumes", "claim-pv")
        assert volume["metadata"]["deletionTimestamp"] and volume["status"]["phase"] == "Bound"
        assert volume["metadata"]["finalizers"] == [names.PV_PROTECTION_FINALIZER]
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        assert not await exists(c, "persistentvolumes", "claim-pv")


async def test_1_11_unbound_volume_is_removed_at_once(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("free", "1Gi"))
        await c.settle()
        await c.client.delete("persistentvolumes", "free")
        await c.settle()
        assert not await exists(c, "persistentvolumes", "free")


async def test_1_11_missing_finalizers_are_added_to_live_objects(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await bound_claim(c)
        await c.client.patch("pvc", "claim", {"metadata": {"finalizers": None}}, NS)
        await c.client.patch("persistentvolumes", "claim-pv", {"metadata": {"finalizers": None}})
        await c.settle()
        assert (await c.client.get("pvc", "claim", NS))["metadata"]["finalizers"] == [names.PVC_PROTECTION_FINALIZER]
        assert (await c.client.get("persistentvolumes", "claim-pv"))["metadata"]["finalizers"] == [
            names.PV_PROTECTION_FINALIZER]


def test_1_11_pod_uses_claim_rules() -> None:
    claim: JSON = {"metadata": {"name": "app-data", "namespace": NS, "uid": "c1",
                                "ownerReferences": [{"controller": True, "uid": "p1"}]}}
    regular = pod("x", "app-data", node="node1")
    regular["metadata"]["namespace"] = NS
    assert pod_uses_claim(regular, claim)
    regular["status"] = {"phase": "Failed"}
    assert pod_uses_claim(regular, claim)  # terminal still blocks a regular claim
    ephemeral: JSON = {"metadata": {"name": "app", "namespace": NS, "uid": "p1"},
                       "spec": {"nodeName": "node1", "volumes": [{"name": "data", "ephemeral": {}}]}}
    assert pod_uses_claim(ephemeral, claim)
    ephemeral["status"] = {"phase": "Succeeded"}
    assert not pod_uses_claim(ephemeral, claim)  # a shut-down pod releases its ephemeral claim
    ephemeral["status"] = {}
    ephemeral["metadata"]["uid"] = "someone-else"
    assert not pod_uses_claim(ephemeral, claim)
