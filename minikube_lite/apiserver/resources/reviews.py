"""Access reviews, whoami, token reviews and service-account tokens: the create-only APIs.

``kubectl auth can-i`` (SelfSubjectAccessReview / SelfSubjectRulesReview) is always allowed:
minikube-lite has no RBAC. Authentication is real, though small: the server's ``--token``
belongs to the administrator, and ``serviceaccounts/token`` issues JWTs signed with a key of
this API server, which the server accepts as bearer tokens and TokenReview verifies (signature,
expiry, audience, and that the ServiceAccount still exists with the same uid).
``kubectl auth whoami`` (SelfSubjectReview) answers with the user of the request.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

import orjson

from ...clock import rfc3339
from .. import errors
from ..registry import ResourceType, _rt

JSON = dict[str, Any]
ADMIN_USER: JSON = {"username": "minikube-lite-admin", "groups": ["system:masters", "system:authenticated"]}
ADMIN_UID = "minikube-lite-admin"
DEFAULT_TOKEN_SECONDS = 3600
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
ISSUER = "https://kubernetes.default.svc.cluster.local"
NO_RBAC_REASON = "minikube-lite has no RBAC: every request is allowed"

# The user of the request being served (set by the HTTP server; the in-process client is the admin).
CURRENT_USER: contextvars.ContextVar[JSON | None] = contextvars.ContextVar("minikube_lite_user", default=None)

# (namespace, name) -> the ServiceAccount's uid, or None when it does not exist.
AccountLookup = Callable[[str, str], "str | None"]


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


class Authenticator:
    """The credentials one API server accepts: its ``--token`` and the tokens it issued."""

    def __init__(self) -> None:
        self.served_token: str | None = None
        self._key = secrets.token_bytes(32)

    def sign(self, claims: JSON) -> str:
        header = _b64(orjson.dumps({"alg": "HS256", "kid": "minikube-lite"}))
        payload = _b64(orjson.dumps(claims))
        return f"{header}.{payload}.{self._signature(header, payload)}"

    def _signature(self, header: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())

    def authenticate(self, token: str, now: float, account_uid: AccountLookup,
                     audiences: list[str] | None = None) -> tuple[JSON | None, list[str], str]:
        """(user info or None, audiences it is valid for, error text) for a bearer token."""
        wanted = audiences or [API_AUDIENCE]
        if self.served_token is not None and token and hmac.compare_digest(token, self.served_token):
            return {**ADMIN_USER, "uid": ADMIN_UID}, wanted, ""
        claims = self._verified_claims(token)
        if claims is None:
            return None, [], "invalid bearer token" if token.count(".") == 2 else ""
        if not isinstance(claims.get("exp"), int) or claims["exp"] < now:
            return None, [], "[invalid bearer token, service account token has expired]"
        raw_aud = claims.get("aud")
        token_aud: list[Any] = raw_aud if isinstance(raw_aud, list) else [raw_aud]
        matched = [a for a in wanted if a in token_aud]
        if not matched:
            return None, [], "[invalid bearer token, token audiences " + _go_list(token_aud) + \
                " is invalid for the target audiences " + _go_list(wanted) + "]"
        info = _as_dict(claims.get("kubernetes.io"))
        namespace = str(info.get("namespace") or "")
        account = _as_dict(info.get("serviceaccount"))
        name, uid = str(account.get("name") or ""), str(account.get("uid") or "")
        current = account_uid(namespace, name)
        if current is None:
            return None, [], f"[invalid bearer token, service account {namespace}/{name} has been deleted]"
        if current != uid:
            return None, [], (f"[invalid bearer token, service account UID ({current}) does not match claim "
                              f"({uid})]")
        user: JSON = {"username": f"system:serviceaccount:{namespace}:{name}", "uid": uid,
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]}
        if claims.get("jti"):
            user["extra"] = {"authentication.kubernetes.io/credential-id": [f"JTI={claims['jti']}"]}
        return user, matched, ""

    def _verified_claims(self, token: str) -> JSON | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        if not hmac.compare_digest(parts[2], self._signature(parts[0], parts[1])):
            return None
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, orjson.JSONDecodeError):
            return None
        return claims if isinstance(claims, dict) else None


def _as_dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _go_list(values: list[Any]) -> str:
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def request_user() -> JSON:
    """The user of the request being served (the administrator for in-process calls)."""
    return CURRENT_USER.get() or {**ADMIN_USER, "uid": ADMIN_UID}


def review(rt: ResourceType, namespace: str | None, body: Any, *, authn: Authenticator | None = None,
           now: float = 0.0, account_uid: AccountLookup | None = None) -> JSON:
    """Answer a review: the request echoed back with its status filled in (nothing is stored)."""
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    spec = _as_dict(body.get("spec"))
    out: JSON = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": dict(body.get("metadata") or {}),
                 "spec": spec}
    out["metadata"].setdefault("creationTimestamp", None)
    if rt.plural == "selfsubjectreviews":
        out.pop("spec")
        out["status"] = {"userInfo": request_user()}
    elif rt.plural == "selfsubjectrulesreviews":
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    elif rt.plural == "tokenreviews":
        out["status"] = _token_review(spec, authn or Authenticator(), now, account_uid or (lambda _ns, _n: None))
    else:
        if rt.namespaced and namespace:
            out["metadata"]["namespace"] = namespace
        out["status"] = {"allowed": True, "reason": NO_RBAC_REASON}
    return out


def _token_review(spec: JSON, authn: Authenticator, now: float, account_uid: AccountLookup) -> JSON:
    token = spec.get("token")
    if not isinstance(token, str) or not token:
        raise errors.bad_request("token is required for TokenReview in authentication")
    audiences = spec.get("audiences")
    wanted = [str(a) for a in audiences] if isinstance(audiences, list) and audiences else None
    user, matched, error = authn.authenticate(token, now, account_uid, wanted)
    status: JSON = {"user": user or {}}
    if user is not None:
        status = {"authenticated": True, "user": user, "audiences": matched}
    elif error:
        status["error"] = error
    return status


def token_request(service_account: JSON, body: Any, now: float, authn: Authenticator) -> JSON:
    """``serviceaccounts/token``: a JWT for the account, signed with this server's key."""
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    spec = dict(body.get("spec") or {}) if isinstance(body.get("spec") or {}, dict) else {}
    raw_seconds = spec.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS
    if not isinstance(raw_seconds, int) or isinstance(raw_seconds, bool):
        raise errors.bad_request("spec.expirationSeconds must be an integer")
    seconds = raw_seconds
    name = service_account["metadata"]["name"]
    if seconds < 600:
        raise errors.invalid("TokenRequest", "authentication.k8s.io", "TokenRequest", name,
                             [errors.invalid_value("spec.expirationSeconds", seconds,
                                                   "may not specify a duration less than 10 minutes")])
    meta = service_account["metadata"]
    subject = f"system:serviceaccount:{meta.get('namespace')}:{name}"
    audiences = spec.get("audiences") or [API_AUDIENCE]
    claims = {"aud": audiences, "exp": int(now) + seconds, "iat": int(now), "nbf": int(now), "iss": ISSUER,
              "jti": new_jti(), "sub": subject,
              "kubernetes.io": {"namespace": meta.get("namespace"),
                                "serviceaccount": {"name": name, "uid": meta.get("uid")}}}
    spec["expirationSeconds"] = seconds
    spec["audiences"] = audiences
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": meta.get("namespace"), "creationTimestamp": rfc3339(now)},
            "spec": spec, "status": {"token": authn.sign(claims), "expirationTimestamp": rfc3339(now + seconds)}}


def new_jti() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
