"""The HTTP client has the in-process client's verbs, against a served cluster."""

from __future__ import annotations

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.client.http import HttpClient


async def test_http_client_verbs(served_cluster: Cluster) -> None:
    http = HttpClient(served_cluster.url)
    try:
        made = await http.create("cm", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "h"},
                                        "data": {"a": "1"}}, "default")
        assert made["metadata"]["uid"]
        got = await http.get("configmaps", "h", "default")
        got["data"]["a"] = "2"
        assert (await http.update("configmaps", got, "default"))["data"] == {"a": "2"}
        patched = await http.patch("configmaps", "h", [{"op": "add", "path": "/data/b", "value": "3"}], "default",
                                   patch_type="json")
        assert patched["data"] == {"a": "2", "b": "3"}
        applied = await http.patch("configmaps", "applied", {"apiVersion": "v1", "kind": "ConfigMap",
                                                             "metadata": {"name": "applied"}, "data": {"x": "y"}},
                                   "default", patch_type="apply", field_manager="me")
        assert applied["metadata"]["managedFields"][0]["manager"] == "me"
        listed = await http.list("configmaps", "default", label_selector="", limit=1)
        assert len(listed["items"]) == 1 and listed["metadata"].get("continue")
        nodes = await http.list("no")
        assert {n["metadata"]["name"] for n in nodes["items"]} == {"master", "node1", "node2"}
        await http.delete("configmaps", "h", "default")
        with pytest.raises(ApiError) as info:
            await http.get("configmaps", "h", "default")
        assert info.value.code == 404 and info.value.reason == "NotFound"
        names = {rt.plural for rt in await http.api_resources()}
        assert {"pods", "volumesnapshots", "storageclasses"} <= names
    finally:
        await http.close()
