"""``componentstatuses``: the deprecated health view of scheduler, controller-manager and etcd.

kube-apiserver computes these on every read by probing each component; nothing is stored.
Here every component lives in this process, so each answers healthy with the message its
health endpoint gives (``ok``).
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import errors
from ..storage.store import StoredObject

JSON = dict[str, Any]
COMPONENT_STATUS_KEY = ("", "componentstatuses")  # computed on read, never stored
COMPONENTS = ("scheduler", "controller-manager", "etcd-0")
DEPRECATION_WARNING = "v1 ComponentStatus is deprecated in v1.19+"
# (group, version, plural) -> the warning kube-apiserver adds to every response of that API.
DEPRECATED_APIS = {("", "v1", "componentstatuses"): DEPRECATION_WARNING}


def component_status(name: str) -> JSON:
    return {"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": name},
            "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]}


def _stored(name: str, rv: int) -> StoredObject:
    return StoredObject(rv, "", name, orjson.dumps(component_status(name)), {}, {"metadata.name": name})


def get_component_status(name: str, rv: int) -> StoredObject:
    if name not in COMPONENTS:
        raise errors.not_found("", "componentstatuses", name)
    return _stored(name, rv)


def list_component_statuses(rv: int) -> list[StoredObject]:
    return [_stored(name, rv) for name in COMPONENTS]
