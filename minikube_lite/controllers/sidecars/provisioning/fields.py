"""Small readers of claim, class and PV fields, as sig-storage-lib-external-provisioner reads them.

Why a module: the controller, the request builder and the data-source checks all ask the same
questions of a claim (its class, its size, its source); one answer each keeps them in step.
"""

from __future__ import annotations

from decimal import Decimal

from ....client.base import JSON
from ....kube.meta import annotations_of
from ....kube.names import ANN_BETA_STORAGE_PROVISIONER, ANN_STORAGE_PROVISIONER
from ....kube.quantity import format_quantity
from ....kube.volumes import claim_request, storage_bytes


def claim_provisioner(claim: JSON) -> str:
    ann = annotations_of(claim)
    return ann.get(ANN_STORAGE_PROVISIONER) or ann.get(ANN_BETA_STORAGE_PROVISIONER) or ""


def request_bytes(claim: JSON) -> int:
    """``RequiredBytes``: ``Quantity.Value()`` of the claim's storage request, rounded *up* to a
    whole byte (``1.5Ki`` is 1536, ``100m`` is 1), the rule the binder and scheduler size by."""
    return claim_request(claim)


def limit_bytes(claim: JSON) -> int:
    """``LimitBytes``: ``Quantity.Value()`` of the storage limit (0: none)."""
    return storage_bytes((((claim.get("spec") or {}).get("resources") or {}).get("limits") or {}).get("storage"))


def bytes_to_quantity(n: int) -> str:
    """EP bytesToQuantity: a BinarySI quantity (``1Gi``, or plain bytes when not a multiple)."""
    return format_quantity(Decimal(n), "BinarySI")


def pv_name_for(claim: JSON) -> str:
    """makeVolumeName with the default prefix ``pvc`` and an untruncated UID."""
    return f"pvc-{(claim.get('metadata') or {}).get('uid', '')}"


def is_block(claim: JSON) -> bool:
    return (claim.get("spec") or {}).get("volumeMode") == "Block"


def has_finalizer(obj: JSON, name: str) -> bool:
    return name in ((obj.get("metadata") or {}).get("finalizers") or [])


def deleting(obj: JSON) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def data_source(claim: JSON) -> JSON | None:
    """The claim's data source, ``dataSourceRef`` first (the API keeps both in step)."""
    spec = claim.get("spec") or {}
    ref = spec.get("dataSourceRef") or spec.get("dataSource")
    if not ref:
        return None
    return dict(ref)


def nskey(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def json_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
