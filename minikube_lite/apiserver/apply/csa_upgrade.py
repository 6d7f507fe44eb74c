"""kubectl's upgrade of client-side-applied objects to server-side apply (client-go ``util/csaupgrade``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minikube_lite.apiserver.apply.fieldpath import FieldSet
from minikube_lite.apiserver.apply.managed_fields import APPLY, UPDATE

JSON = dict[str, Any]


def csa_upgrade(managed_fields: list[JSON], csa_managers: Iterable[str], ssa_manager: str,
                subresource: str = "") -> list[JSON]:
    """The managedFields kubectl sends after its first server-side apply of a CSA object (§6.3).

    The ``ssa_manager`` Apply entry (or, if none, the newest CSA Update entry renamed to it)
    absorbs the sets of the CSA Update entries with its apiVersion; all CSA Update entries of
    that subresource are dropped. In-process clients use this to migrate like kubectl does.
    """
    names = set(csa_managers)
    entries = copy.deepcopy(managed_fields)

    def is_csa(e: JSON) -> bool:
        return (e.get("manager") in names and e.get("operation") == UPDATE
                and (e.get("subresource") or "") == subresource)

    target = next((i for i, e in enumerate(entries) if e.get("manager") == ssa_manager
                   and e.get("operation") == APPLY and (e.get("subresource") or "") == subresource), None)
    if target is None:
        target = next((i for i, e in enumerate(entries) if is_csa(e)), None)
        if target is None:
            return entries
        entries[target]["manager"], entries[target]["operation"] = ssa_manager, APPLY
    tgt = entries[target]
    combined = FieldSet.from_fieldsv1(tgt.get("fieldsV1") or {})
    merged_any = False
    for e in entries:
        if is_csa(e) and e.get("apiVersion") == tgt.get("apiVersion"):
            combined = combined.union(FieldSet.from_fieldsv1(e.get("fieldsV1") or {}))
            merged_any = True
    if merged_any:
        tgt["fieldsV1"] = combined.to_fieldsv1()
    return [e for e in entries if not is_csa(e)]
