"""The CertificateSigningRequest registry strategy: who asked is recorded by the server.

On create, ``spec.username``, ``uid``, ``groups`` and ``extra`` are the requesting user's,
whatever the client sent; afterwards the spec never changes (updates keep the old spec, and
the main resource keeps the old status too, as upstream's PrepareForUpdate does).
"""

from __future__ import annotations

from typing import Any

from .admission import CREATE, UPDATE, AdmissionContext
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
            if not ctx.subresource:
                if "status" in old:
                    obj["status"] = old["status"]
                else:
                    obj.pop("status", None)

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None
