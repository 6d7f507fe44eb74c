"""Calling a CSI driver from a sidecar or the kubelet: one wrapper, one error type.

Every caller (the provisioner, attacher, resizer, snapshotter and capacity sidecars, and the
kubelet's NodeExpandVolume) calls the driver through :func:`call_driver`,
so a failed call always arrives as a :class:`CsiCallError` carrying the gRPC code as Go prints
it (``ResourceExhausted``) and the Go error text the sidecars put into events
(``rpc error: code = ResourceExhausted desc = ...``).
"""

from __future__ import annotations

import inspect
from typing import Any

from . import spec

#: gRPC code names (``RESOURCE_EXHAUSTED``) as Go prints them.
_GRPC_NAMES = {
    "CANCELLED": "Canceled", "CANCELED": "Canceled", "UNKNOWN": "Unknown", "INVALID_ARGUMENT": "InvalidArgument",
    "DEADLINE_EXCEEDED": "DeadlineExceeded", "NOT_FOUND": "NotFound", "ALREADY_EXISTS": "AlreadyExists",
    "PERMISSION_DENIED": "PermissionDenied", "RESOURCE_EXHAUSTED": "ResourceExhausted",
    "FAILED_PRECONDITION": "FailedPrecondition", "ABORTED": "Aborted", "OUT_OF_RANGE": "OutOfRange",
    "UNIMPLEMENTED": "Unimplemented", "INTERNAL": "Internal", "UNAVAILABLE": "Unavailable",
    "DATA_LOSS": "DataLoss", "UNAUTHENTICATED": "Unauthenticated",
}


class CsiCallError(Exception):
    """A failed CSI call: ``code`` is the gRPC name as Go prints it and ``text`` (also ``str()``)
    the Go error text."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.text = spec.MSG_RPC_ERROR.format(code=code, message=message)
        super().__init__(self.text)


def grpc_name(code: object) -> str:
    """A gRPC code (enum, or its name) as Go prints it."""
    raw = (getattr(code, "name", None) or str(code)).rsplit(".", 1)[-1]
    return _GRPC_NAMES.get(raw.upper(), raw)


async def call_driver(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a driver method (sync or async); any error carrying a gRPC ``code`` becomes a CsiCallError."""
    try:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result
    except CsiCallError:
        raise
    except spec.CsiError as err:
        raise CsiCallError(err.code.go_name, err.message) from None
    except Exception as err:
        code = getattr(err, "code", None)
        if code is None or callable(code):
            raise
        raise CsiCallError(grpc_name(code), str(getattr(err, "message", err))) from None
