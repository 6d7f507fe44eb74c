"""The CertificateSigningRequest registry strategy: who asked is recorded by the server.

On create, ``spec.username``, ``uid``, ``groups`` and ``extra`` are the requesting user's,
whatever the client sent; afterwards the spec never changes (updates keep the old spec, and
the main resource keeps the old status too, as upstream's PrepareForUpdate does).
"""

from __future__ import annotations

from typing import Any

from ...clock import rfc3339
from .. import errors
from ..admission.chain import CREATE, UPDATE, AdmissionContext
from ..schema.validation.common import GoValue
from .reviews import request_user

JSON = dict[str, Any]
CSR_KEY = ("certificates.k8s.io", "certificatesigningrequests")


class CertificateSigningRequestStrategy:
    name = "CertificateSigningRequestStrategy"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.rt.key != CSR_KEY:
            return
        if ctx.operation == CREATE and not ctx.subresource:
            spec = obj.get("spec")
            if isinstance(spec, dict):
                user = request_user()
                spec["username"] = user.get("username", "")
                for key in ("uid", "groups", "extra"):
                    if user.get(key):
                        spec[key] = user[key]
                    else:
                        spec.pop(key, None)
        elif ctx.operation == UPDATE and old is not None:
            if "spec" in old:
                obj["spec"] = old["spec"]
            if ctx.subresource == "approval":
                _approval_update(obj, old, rfc3339(ctx.now))
            if not ctx.subresource:
                if "status" in old:
                    obj["status"] = old["status"]
                else:
                    obj.pop("status", None)

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.rt.key != CSR_KEY or ctx.subresource not in ("approval", "status"):
            return
        kinds = [c.get("type") for c in ((obj.get("status") or {}).get("conditions") or []) if isinstance(c, dict)]
        if "Approved" in kinds and "Denied" in kinds:
            name = str((obj.get("metadata") or {}).get("name") or "")
            raise errors.invalid("CertificateSigningRequest.certificates.k8s.io", "certificates.k8s.io",
                                 "CertificateSigningRequest", name,
                                 [errors.invalid_value("status.conditions", GoValue("[]certificates."
                                                       "CertificateSigningRequestCondition{...}"),
                                                       "Approved and Denied conditions are mutually exclusive")])


def _approval_update(obj: JSON, old: JSON, now: str) -> None:
    """``csrApprovalStrategy``: only the conditions change; their timestamps are filled in."""
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    raw_old = old.get("status")
    old_status: JSON = raw_old if isinstance(raw_old, dict) else {}
    if old_status.get("certificate"):
        status["certificate"] = old_status["certificate"]
    else:
        status.pop("certificate", None)
    previous = {c.get("type"): c for c in (old_status.get("conditions") or []) if isinstance(c, dict)}
    for cond in status.get("conditions") or []:
        if not isinstance(cond, dict):
            continue
        cond.setdefault("lastUpdateTime", now)
        if not cond.get("lastTransitionTime"):
            before = previous.get(cond.get("type"))
            if before is not None and before.get("status") == cond.get("status"):
                cond["lastTransitionTime"] = before.get("lastTransitionTime", now)
            else:
                cond["lastTransitionTime"] = now
