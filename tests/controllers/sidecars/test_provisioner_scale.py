"""The provisioner's cached topology aggregation: same answers, rebuilt when nodes change."""

from __future__ import annotations

from typing import Any

from test_provisioner import ZONE, claim, register, storage_class, topo  # noqa: F401  (topo is a fixture)


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
    found = await prov.accessibility.requirements(claim("data"), sc, node3)
    topology = found.topology
    assert topology is not None
    assert [t.segments for t in topology.requisite] == found.requisite
    assert [t.segments for t in topology.preferred] == found.preferred
    assert topology.preferred[0].segments[ZONE] == "cn-hangzhou-h"
    # Terms that do not come from the aggregate (an allowed topology) are built at call time.
    allowed = [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-h"]}]}]
    sc_allowed = await c.client.create("storageclasses", storage_class("allowed", allowed=allowed))
    assert (await prov.accessibility.requirements(claim("data"), sc_allowed, node3)).topology is None


async def test_an_unchanged_cluster_gives_every_claim_the_same_requisite_list(topo: Any) -> None:  # noqa: F811
    """One list object for all claims (a remote driver's client then sends it once), the preferred
    list a rotation of it that starts at each claim's selected node."""
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node2, node3 = await c.client.get("nodes", "node2"), await c.client.get("nodes", "node3")
    first = (await prov.accessibility.requirements(claim("a"), sc, node2)).topology
    second = (await prov.accessibility.requirements(claim("b"), sc, node3)).topology
    immediate = (await prov.accessibility.requirements(claim("c"), sc, node2)).topology
    assert first is not None and second is not None and immediate is not None
    assert second.requisite is first.requisite is immediate.requisite
    assert [t.segments[ZONE] for t in first.preferred] == ["cn-hangzhou-d", "cn-hangzhou-h", "cn-hangzhou-b"]
    assert [t.segments[ZONE] for t in second.preferred] == ["cn-hangzhou-h", "cn-hangzhou-b", "cn-hangzhou-d"]
    assert all(any(p is r for r in first.requisite) for p in second.preferred)   # the same values, rotated


async def test_the_requisite_list_is_rebuilt_when_a_node_or_csinode_comes_or_goes(topo: Any) -> None:  # noqa: F811
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node2 = await c.client.get("nodes", "node2")

    async def requisite() -> list[Any]:
        topology = (await prov.accessibility.requirements(claim("data"), sc, node2)).topology
        assert topology is not None
        return topology.requisite

    before, generation = await requisite(), prov.accessibility.generation
    assert await requisite() is before
    await c.client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                                    "metadata": {"name": "node4", "labels": {ZONE: "cn-hangzhou-k"}}})
    await c.settle()
    added = await requisite()
    assert added is not before and prov.accessibility.generation > generation
    assert [t.segments[ZONE] for t in added] == ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h", "cn-hangzhou-k"]
    await register(c, "node4", [ZONE])
    await c.settle()
    registered = await requisite()
    assert registered is not added and registered == added
    await c.client.delete("csinodes", "node4")
    await c.client.delete("nodes", "node4")
    await c.settle()
    removed = await requisite()
    assert removed is not registered and removed == before
    assert await requisite() is removed
