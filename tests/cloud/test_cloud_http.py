"""The cloud's HTTP inspection API (read-only, plus fault injection)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import MockCloud
from minikube_lite.cloud.http import cloud_app
from minikube_lite.config import ClusterConfig


async def test_http_inspection_and_faults() -> None:
    clock = VirtualClock(start=1_700_000_000)
    cloud = MockCloud.for_cluster(ClusterConfig.default(), clock)
    disk = await cloud.create_disk(zone="cn-hangzhou-b", size_gib=20, category="cloud_ssd", name="pvc-a")
    await clock.advance(2)
    snap = await cloud.create_snapshot(disk.disk_id)
    await clock.advance(1)
    async with TestClient(TestServer(cloud_app(cloud))) as http:
        body = await (await http.get("/disks")).json()
        assert body["TotalCount"] == 1 and body["Disks"][0]["DiskId"] == disk.disk_id
        assert body["Disks"][0]["Status"] == "Available"
        one = await (await http.get(f"/disks/{disk.disk_id}")).json()
        assert one["DiskName"] == "pvc-a" and one["ZoneId"] == "cn-hangzhou-b" and one["Size"] == 20
        missing = await http.get("/disks/d-nope")
        assert missing.status == 404 and (await missing.json())["Code"] == "InvalidDiskId.NotFound"
        snaps = await (await http.get("/snapshots", params={"disk": disk.disk_id})).json()
        assert snaps["Snapshots"][0]["Progress"] == "20%" and snaps["Snapshots"][0]["Status"] == "progressing"
        assert (await http.get(f"/snapshots/{snap.snapshot_id}")).status == 200
        assert (await http.get("/snapshots/s-nope")).status == 404
        instances = await (await http.get("/instances")).json()
        assert sorted(i["InstanceName"] for i in instances["Instances"]) == ["master", "node1", "node2"]
        zones = await (await http.get("/zones")).json()
        assert [z["ZoneId"] for z in zones["Zones"]] == ["cn-hangzhou-b", "cn-hangzhou-d"]
        assert zones["Usage"]["CapacityGiB"] == 20
        ops = await (await http.get("/operations")).json()
        assert [o["operation"] for o in ops["Operations"]] == ["CreateDisk", "CreateSnapshot"]

        resp = await http.post("/faults", json={"zoneOutages": ["cn-hangzhou-d"],
                                                "script": [{"operation": "CreateDisk", "code": "QuotaExceed.Disk"}],
                                                "latency": {"AttachDisk": "2s"}})
        assert resp.status == 200
        faults = await resp.json()
        assert faults["zoneOutages"] == ["cn-hangzhou-d"] and faults["latency"] == {"AttachDisk": 2.0}
        assert cloud.faults.scripted[0].code == "QuotaExceed.Disk"
        zones = await (await http.get("/zones")).json()
        assert [z["Available"] for z in zones["Zones"]] == [True, False]
        bad = await http.post("/faults", json={"errorRates": {"CreateDisk": 7}})
        assert bad.status == 400 and "between 0 and 1" in (await bad.json())["Message"]
        bad2 = await http.post("/faults", data=b"not json")
        assert bad2.status == 400
        assert (await http.delete("/faults")).status == 200
        assert cloud.faults.zone_outages == set() and cloud.faults.scripted == []
        # Read-only: no writes over HTTP.
        assert (await http.post("/disks", json={})).status == 405
