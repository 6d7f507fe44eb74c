"""The provisioner's cached topology aggregation: same answers, rebuilt when nodes change."""

from __future__ import annotations

from typing import Any

from test_provisioner import ZONE, claim, storage_class, topo  # noqa: F401  (topo is a fixture)

from minikube_lite.controllers.sidecars.provisioning.requests import VolumeRequest


async def test_aggregated_topology_is_cached_and_follows_node_label_changes(topo: Any) -> None:  # noqa: F811
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node2 = await c.client.get("nodes", "node2")
    requisite, preferred = await prov.accessibility.generate(claim("data"), sc, node2)
    zones = [t[ZONE] for t in requisite]
    assert zones == ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h"]
    assert preferred[0][ZONE] == "cn-hangzhou-d"
    assert prov.accessibility.cache, "aggregation cached"
    again, _ = await prov.accessibility.generate(claim("data"), sc, node2)
    assert again == requisite and again is not requisite    # callers get their own list

    # A status-only node update keeps the cache; a label change clears it.
    await c.client.patch("nodes", "node1", {"status": {"conditions": []}}, subresource="status")
    await c.settle()
    assert prov.accessibility.cache
    await c.client.patch("nodes", "node1", {"metadata": {"labels": {ZONE: "cn-hangzhou-k"}}})
    await c.settle()
    assert not prov.accessibility.cache
    requisite, _ = await prov.accessibility.generate(claim("data"), sc, node2)
    assert "cn-hangzhou-k" in [t[ZONE] for t in requisite]


async def test_cached_terms_reach_the_driver_as_shared_csi_topology(topo: Any) -> None:  # noqa: F811
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node3 = await c.client.get("nodes", "node3")
    req = VolumeRequest(name="pvc-x", required_bytes=1, limit_bytes=0, access_modes=["ReadWriteOnce"],
                        block=False, fs_type="", mount_flags=[], parameters={})
    req.requisite, req.preferred = await prov.accessibility.generate(claim("data"), sc, node3)
    topology = prov.accessibility.csi_topology(req)
    assert topology is not None
    assert [t.segments for t in topology.requisite] == req.requisite
    assert [t.segments for t in topology.preferred] == req.preferred
    assert topology.preferred[0].segments[ZONE] == "cn-hangzhou-h"
    # Terms that did not come from the cache are not translated from it.
    req.requisite = [dict(t) for t in req.requisite]
    assert prov.accessibility.csi_topology(req) is None
