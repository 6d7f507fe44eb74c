"""Access reviews, whoami and token requests are answered, never stored."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.resources.reviews import NO_RBAC_REASON


async def test_access_reviews_allow_and_store_nothing(cluster: Cluster) -> None:
    rv = cluster.engine.store.resource_version
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "default"}}}
    answer = await cluster.client.create("selfsubjectaccessreviews", body)
    assert answer["status"] == {"allowed": True, "reason": NO_RBAC_REASON}
    assert answer["spec"]["resourceAttributes"]["verb"] == "create"
    who = await cluster.client.create("selfsubjectreviews", {"apiVersion": "authentication.k8s.io/v1",
                                                             "kind": "SelfSubjectReview"})
    assert who["status"]["userInfo"]["username"] == "minikube-lite-admin"
    assert cluster.engine.store.resource_version == rv
    with pytest.raises(ApiError) as info:
        await cluster.client.list("selfsubjectaccessreviews")
    assert info.value.code == 405


async def test_token_request_and_token_review(cluster: Cluster) -> None:
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"audiences": ["api"], "expirationSeconds": 1200}}
    issued = await cluster.client.create("serviceaccounts", request, "default", subresource="token", name="default")
    token = issued["status"]["token"]
    assert issued["kind"] == "TokenRequest" and issued["spec"]["expirationSeconds"] == 1200
    reviewed = await cluster.client.create("tokenreviews", {"apiVersion": "authentication.k8s.io/v1",
                                                            "kind": "TokenReview",
                                                            "spec": {"token": token, "audiences": ["api"]}})
    assert reviewed["status"]["authenticated"] is True
    assert reviewed["status"]["user"]["username"] == "system:serviceaccount:default:default"
    forged = await cluster.client.create("tokenreviews", {"apiVersion": "authentication.k8s.io/v1",
                                                          "kind": "TokenReview", "spec": {"token": token + "x"}})
    assert "authenticated" not in forged["status"]  # false is omitted, as upstream
    with pytest.raises(ApiError) as short:
        await cluster.client.create("serviceaccounts", {**request, "spec": {"expirationSeconds": 60}}, "default",
                                    subresource="token", name="default")
    assert short.value.code == 422 and "may not specify a duration less than 10 minutes" in short.value.message


def token_review(token: str, audiences: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"token": token}
    if audiences is not None:
        spec["audiences"] = audiences
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}


async def issue(cluster: Cluster, account: str = "default", seconds: int = 3600) -> str:
    issued = await cluster.client.create("serviceaccounts", {"apiVersion": "authentication.k8s.io/v1",
                                                             "kind": "TokenRequest",
                                                             "spec": {"expirationSeconds": seconds}},
                                         "default", subresource="token", name=account)
    return str(issued["status"]["token"])


async def test_token_review_of_a_service_account_token(cluster: Cluster) -> None:
    token = await issue(cluster)
    account = await cluster.client.get("serviceaccounts", "default", "default")
    status = (await cluster.client.create("tokenreviews", token_review(token)))["status"]
    assert status["authenticated"] is True
    assert status["audiences"] == ["https://kubernetes.default.svc.cluster.local"]
    user = status["user"]
    assert user["username"] == "system:serviceaccount:default:default"
    assert user["uid"] == account["metadata"]["uid"]
    assert user["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
    assert user["extra"]["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")


@pytest.mark.parametrize(("case", "error"), [
    ("garbage", None),
    ("other server", "invalid bearer token"),
    ("wrong audience", "token audiences"),
    ("account deleted", "service account default/gone has been deleted"),
])
async def test_token_review_rejects(cluster: Cluster, case: str, error: str | None) -> None:
    audiences = None
    if case == "garbage":
        token = "not-a-token"
    elif case == "other server":
        async with Cluster(components=False) as other:
            token = await issue(other)
    elif case == "wrong audience":
        token, audiences = await issue(cluster), ["vault"]
    else:
        await cluster.client.create("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                        "metadata": {"name": "gone"}}, "default")
        token = await issue(cluster, "gone")
        await cluster.client.delete("serviceaccounts", "gone", "default")
    status = (await cluster.client.create("tokenreviews", token_review(token, audiences)))["status"]
    assert "authenticated" not in status and status["user"] == {}
    if error is None:
        assert "error" not in status
    else:
        assert error in status["error"]


async def test_token_review_of_the_served_token_and_an_empty_one() -> None:
    async with Cluster(serve=True, token="s3cret", components=False) as c:
        status = (await c.client.create("tokenreviews", token_review("s3cret")))["status"]
        assert status["authenticated"] is True
        assert status["user"] == {"username": "minikube-lite-admin", "uid": "minikube-lite-admin",
                                  "groups": ["system:masters", "system:authenticated"]}
        with pytest.raises(ApiError) as empty:
            await c.client.create("tokenreviews", token_review(""))
        assert (empty.value.code, empty.value.message) == (400, "token is required for TokenReview in authentication")


async def test_service_account_tokens_are_bearer_credentials_and_whoami_names_them(tmp_path: Any) -> None:
    import aiohttp

    async with Cluster(serve=True, token="s3cret", components=False) as c:
        token = await issue(c)
        async with aiohttp.ClientSession() as http:
            url = f"{c.url}/apis/authentication.k8s.io/v1/selfsubjectreviews"
            body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
            async with http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 201
                who = await resp.json()
            assert who["status"]["userInfo"]["username"] == "system:serviceaccount:default:default"
            async with http.post(url, json=body, headers={"Authorization": "Bearer s3cret"}) as resp:
                assert (await resp.json())["status"]["userInfo"]["username"] == "minikube-lite-admin"
            async with http.post(url, json=body, headers={"Authorization": f"Bearer {token}x"}) as resp:
                assert resp.status == 401
