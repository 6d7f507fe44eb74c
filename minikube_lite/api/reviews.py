"""Access reviews, whoami and service-account tokens: the create-only APIs kubectl asks.

``kubectl auth can-i`` (SelfSubjectAccessReview / SelfSubjectRulesReview), ``kubectl auth whoami``
(SelfSubjectReview) and ``kubectl create token`` (``serviceaccounts/token``) get the answers of a
cluster whose only user is its administrator: minikube-lite has no RBAC, so every request is
allowed (with ``--token``, requests without the token never get this far).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from ..clock import rfc3339
from . import errors
from .registry import ResourceType, _rt

JSON = dict[str, Any]
ADMIN_USER: JSON = {"username": "minikube-lite-admin", "groups": ["system:masters", "system:authenticated"]}
DEFAULT_TOKEN_SECONDS = 3600


def review_types() -> list[ResourceType]:
    create_only = ("create",)
    return [
        _rt("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
            verbs=create_only),
        _rt("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
            verbs=create_only),
        _rt("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, verbs=create_only),
        _rt("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", True,
            verbs=create_only),
        _rt("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False, verbs=create_only),
        _rt("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False, verbs=create_only),
    ]


REVIEW_KEYS = {rt.key for rt in review_types()}


def review(rt: ResourceType, namespace: str | None, body: Any) -> JSON:
    """Answer a review: the request echoed back with its status filled in (nothing is stored)."""
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    out: JSON = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": dict(body.get("metadata") or {}),
                 "spec": body.get("spec") or {}}
    out["metadata"].setdefault("creationTimestamp", None)
    if rt.plural == "selfsubjectreviews":
        out.pop("spec")
        out["status"] = {"userInfo": dict(ADMIN_USER)}
    elif rt.plural == "selfsubjectrulesreviews":
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    elif rt.plural == "tokenreviews":
        token = str((out["spec"] or {}).get("token") or "")
        sub = _token_subject(token)
        out["status"] = {"authenticated": sub is not None, "user": {"username": sub} if sub else {},
                         "audiences": (out["spec"] or {}).get("audiences") or []}
    else:
        if rt.namespaced and namespace:
            out["metadata"]["namespace"] = namespace
        out["status"] = {"allowed": True}
    return out


def token_request(service_account: JSON, body: Any, now: float) -> JSON:
    """``serviceaccounts/token``: a token for the account (a JWT-shaped string; nothing checks it)."""
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    spec = dict(body.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS)
    if seconds < 600:
        raise errors.invalid("TokenRequest", "authentication.k8s.io", "TokenRequest",
                             service_account["metadata"]["name"],
                             [errors.invalid_value("spec.expirationSeconds", seconds,
                                                   "may not specify a duration less than 10 minutes")])
    meta = service_account["metadata"]
    subject = f"system:serviceaccount:{meta.get('namespace')}:{meta['name']}"
    claims = {"aud": spec.get("audiences") or ["https://kubernetes.default.svc.cluster.local"],
              "exp": int(now) + seconds, "iat": int(now), "iss": "https://kubernetes.default.svc.cluster.local",
              "sub": subject, "kubernetes.io": {"namespace": meta.get("namespace"),
                                                "serviceaccount": {"name": meta["name"], "uid": meta.get("uid")}}}
    spec["expirationSeconds"] = seconds
    spec.setdefault("audiences", claims["aud"])
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "creationTimestamp": rfc3339(now)},
            "spec": spec, "status": {"token": _jwt(claims), "expirationTimestamp": rfc3339(now + seconds)}}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(claims: JSON) -> str:
    header = _b64(orjson.dumps({"alg": "RS256", "kid": "minikube-lite"}))
    payload = _b64(orjson.dumps(claims))
    signature = _b64(hashlib.sha256(f"{header}.{payload}".encode()).digest())
    return f"{header}.{payload}.{signature}"


def _token_subject(token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    expected = _b64(hashlib.sha256(f"{parts[0]}.{parts[1]}".encode()).digest())
    return str(claims.get("sub")) if parts[2] == expected and isinstance(claims, dict) else None
