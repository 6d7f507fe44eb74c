"""Access reviews, whoami and token requests are answered, never stored."""

from __future__ import annotations

import pytest

from minikube_lite import Cluster
from minikube_lite.api.errors import ApiError


async def test_access_reviews_allow_and_store_nothing(cluster: Cluster) -> None:
    rv = cluster.engine.store.resource_version
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "default"}}}
    answer = await cluster.client.create("selfsubjectaccessreviews", body)
    assert answer["status"] == {"allowed": True}
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
                                                            "kind": "TokenReview", "spec": {"token": token}})
    assert reviewed["status"]["authenticated"] is True
    assert reviewed["status"]["user"]["username"] == "system:serviceaccount:default:default"
    forged = await cluster.client.create("tokenreviews", {"apiVersion": "authentication.k8s.io/v1",
                                                          "kind": "TokenReview", "spec": {"token": token + "x"}})
    assert forged["status"]["authenticated"] is False
    with pytest.raises(ApiError) as short:
        await cluster.client.create("serviceaccounts", {**request, "spec": {"expirationSeconds": 60}}, "default",
                                    subresource="token", name="default")
    assert short.value.code == 422 and "may not specify a duration less than 10 minutes" in short.value.message
