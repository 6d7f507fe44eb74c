"""The cloud's own inspection API, mounted by the cluster under ``/cloud/v1``.

Why over HTTP too: a user running ``minikube-lite serve`` should see "the cloud side" (disk and
snapshot ids, states, progress) with ``curl``, and break it on purpose (``POST /faults``) while
watching how the controllers react. Everything is read-only except the fault injector.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ..configmodel import format_validation_error
from .service import MockCloud

CLOUD_KEY: web.AppKey[MockCloud] = web.AppKey("cloud", MockCloud)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _not_found(kind: str, ident: str) -> web.Response:
    code = {"disk": "InvalidDiskId.NotFound", "snapshot": "InvalidSnapshotId.NotFound"}[kind]
    return _json({"Code": code, "Message": f"The specified {kind} {ident} does not exist."}, 404)


async def _disks(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    q = request.query
    disks = cloud.describe_disks(zone=q.get("zone"), instance_id=q.get("instance"), status=q.get("status"),
                                 name=q.get("name"))
    return _json({"Disks": [d.to_dict() for d in disks], "TotalCount": len(disks)})


async def _disk(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    disk = cloud.disks.get(request.match_info["id"])
    return _json(disk.to_dict()) if disk else _not_found("disk", request.match_info["id"])


async def _snapshots(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    q = request.query
    snaps = cloud.describe_snapshots(disk_id=q.get("disk"), status=q.get("status"), name=q.get("name"))
    return _json({"Snapshots": [s.to_dict() for s in snaps], "TotalCount": len(snaps)})


async def _snapshot(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    snap = cloud.snapshots.get(request.match_info["id"])
    return _json(snap.to_dict()) if snap else _not_found("snapshot", request.match_info["id"])


async def _instances(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    return _json({"Instances": [i.to_dict() for i in cloud.instances.values()]})


async def _zones(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    zones = []
    for region, names in cloud.regions.items():
        for zone in names:
            zones.append({"ZoneId": zone, "RegionId": region, "Disks": cloud.disk_count(zone),
                          "Available": zone not in cloud.faults.zone_outages})
    return _json({"Zones": zones, "Usage": {"CapacityGiB": cloud.used_capacity_gib(),
                                            "QuotaCapacityGiB": cloud.config.quotas.totalCapacityGiB,
                                            "QuotaDisksPerZone": cloud.config.quotas.disksPerZone}})


async def _log(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    return _json({"Operations": list(cloud.log)})


async def _get_faults(request: web.Request) -> web.Response:
    return _json(request.app[CLOUD_KEY].faults.to_dict())


async def _post_faults(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    try:
        body = await request.json()
    except ValueError:
        return _json({"Code": "InvalidParameter", "Message": "the body must be a JSON object"}, 400)
    if not isinstance(body, dict):
        return _json({"Code": "InvalidParameter", "Message": "the body must be a JSON object"}, 400)
    try:
        cloud.faults.apply(body)
    except (ValidationError, ValueError) as exc:
        msg = format_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        return _json({"Code": "InvalidParameter", "Message": msg}, 400)
    return _json(cloud.faults.to_dict())


async def _delete_faults(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD_KEY]
    cloud.faults.clear()
    return _json(cloud.faults.to_dict())


def cloud_app(cloud: MockCloud) -> web.Application:
    """An aiohttp sub-application; mount it with ``app.add_subapp("/cloud/v1", cloud_app(cloud))``."""
    app = web.Application()
    app[CLOUD_KEY] = cloud
    app.router.add_get("/disks", _disks)
    app.router.add_get("/disks/{id}", _disk)
    app.router.add_get("/snapshots", _snapshots)
    app.router.add_get("/snapshots/{id}", _snapshot)
    app.router.add_get("/instances", _instances)
    app.router.add_get("/zones", _zones)
    app.router.add_get("/operations", _log)
    app.router.add_get("/faults", _get_faults)
    app.router.add_post("/faults", _post_faults)
    app.router.add_delete("/faults", _delete_faults)
    return app
