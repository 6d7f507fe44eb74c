"""Issue 4 through real kubectl binaries: every way kubectl writes, and token auth over TLS.

Assertions are on what kubectl prints (``created``, ``unchanged``, ``configured``,
``serverside-applied``, the 409 conflict text...) and on the objects the server then holds,
read back through the cluster's in-process client.
"""

from __future__ import annotations

import base64
import json
import re
import stat

import pytest
import trustme
import yaml
from kubectl_runner import Kubectl

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - {{name: app, image: nginx:1.27}}
{extra}"""
SIDECAR = "      - {name: side, image: busybox:1.36}\n"


async def get(kubectl: Kubectl, resource: str, name: str, namespace: str | None = "default") -> dict | None:
    try:
        return await kubectl.cluster.client.get(resource, name, namespace)
    except ApiError as err:
        if err.code == 404:
            return None
        raise


def containers(obj: dict) -> list[str]:
    return [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]


# ------------------------------------------------------------------------------------------ apply


async def test_apply_client_side_three_way(kubectl: Kubectl) -> None:
    path = kubectl.write(DEPLOYMENT.format(name="csa", extra=SIDECAR), "csa.yaml")
    assert (await kubectl.ok("apply", "-f", path)).strip() == "deployment.apps/csa created"
    assert (await kubectl.ok("apply", "-f", path)).strip() == "deployment.apps/csa unchanged"
    obj = await get(kubectl, "deployments", "csa")
    assert obj is not None and containers(obj) == ["app", "side"]
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert [c["name"] for c in last["spec"]["template"]["spec"]["containers"]] == ["app", "side"]
    # a field changed by someone else survives a re-apply that does not mention it
    await kubectl.ok("label", "deployment", "csa", "owner=ops")
    kubectl.write(DEPLOYMENT.format(name="csa", extra=""), "csa.yaml")  # the sidecar is gone from the file
    assert (await kubectl.ok("apply", "-f", path)).strip() == "deployment.apps/csa configured"
    obj = await get(kubectl, "deployments", "csa")
    assert obj is not None and containers(obj) == ["app"]
    assert obj["metadata"]["labels"] == {"app": "csa", "owner": "ops"}
    assert (await kubectl.ok("apply", "-f", path)).strip() == "deployment.apps/csa unchanged"


async def test_apply_custom_resource_uses_merge_patch(kubectl: Kubectl) -> None:
    vsc = ("apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata:\n  name: e2e-vsc\n"
           "  labels: {a: b}\ndriver: diskplugin.csi.alibabacloud.com\ndeletionPolicy: Delete\n")
    path = kubectl.write(vsc, "vsc.yaml")
    out = await kubectl.ok("apply", "-f", path)
    assert out.strip() == "volumesnapshotclass.snapshot.storage.k8s.io/e2e-vsc created"
    assert "unchanged" in await kubectl.ok("apply", "-f", path)
    kubectl.write(vsc.replace("Delete", "Retain").replace("  labels: {a: b}\n", ""), "vsc.yaml")
    assert "configured" in await kubectl.ok("apply", "-f", path)
    obj = await get(kubectl, "volumesnapshotclasses.snapshot.storage.k8s.io", "e2e-vsc", None)
    assert obj is not None and obj["deletionPolicy"] == "Retain"
    assert not obj["metadata"].get("labels")


async def test_apply_dry_run_server_stores_nothing(kubectl: Kubectl) -> None:
    path = kubectl.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: '1'}\n")
    out = await kubectl.ok("apply", "--dry-run=server", "-f", path)
    assert out.strip() == "configmap/dry created (server dry run)"
    assert await get(kubectl, "configmaps", "dry") is None


async def test_apply_server_side_conflict_and_force(kubectl: Kubectl) -> None:
    mine = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '1', b: '1'}\n"
    theirs = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '2'}\n"
    out = await kubectl.ok("apply", "--server-side", "-f", kubectl.write(mine))
    assert out.strip() == "configmap/ssa serverside-applied"
    obj = await get(kubectl, "configmaps", "ssa")
    assert obj is not None
    entries = obj["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [("kubectl", "Apply")]
    assert entries[0]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    conflict = await kubectl.fail("apply", "--server-side", "--field-manager=other", "-f", kubectl.write(theirs))
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .data.a' in conflict.err, str(conflict)
    assert "--force-conflicts" in conflict.err
    assert (await get(kubectl, "configmaps", "ssa") or {})["data"] == {"a": "1", "b": "1"}
    out = await kubectl.ok("apply", "--server-side", "--field-manager=other", "--force-conflicts",
                           "-f", kubectl.write(theirs))
    assert out.strip() == "configmap/ssa serverside-applied"
    obj = await get(kubectl, "configmaps", "ssa")
    assert obj is not None and obj["data"] == {"a": "2", "b": "1"}
    owners = {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}
    assert owners == {"kubectl": {"f:data": {"f:b": {}}}, "other": {"f:data": {"f:a": {}}}}
    shown = yaml.safe_load(await kubectl.ok("get", "cm", "ssa", "-o", "yaml", "--show-managed-fields"))
    assert {e["manager"] for e in shown["metadata"]["managedFields"]} == {"kubectl", "other"}
    # dropping a field from the applied configuration removes it (the manager was its only owner)
    out = await kubectl.ok("apply", "--server-side", "-f",
                           kubectl.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {}\n"))
    assert (await get(kubectl, "configmaps", "ssa") or {}).get("data") == {"a": "2"}


# ------------------------------------------------------------------------- imperative creates


async def test_create_imperative_kinds(kubectl: Kubectl) -> None:
    """kubectl >= 1.32 sends these typed-client bodies as protobuf."""
    assert (await kubectl.ok("create", "namespace", "e2e-ns")).strip() == "namespace/e2e-ns created"
    assert (await kubectl.ok("create", "configmap", "cm1", "--from-literal=k=v", "-n", "e2e-ns")).strip() == \
        "configmap/cm1 created"
    assert (await kubectl.ok("create", "secret", "generic", "s1", "--from-literal=p=q", "-n", "e2e-ns")).strip() == \
        "secret/s1 created"
    assert (await kubectl.ok("create", "deployment", "d1", "--image=nginx:1.27", "--replicas=2",
                             "-n", "e2e-ns")).strip() == "deployment.apps/d1 created"
    assert (await kubectl.ok("create", "service", "clusterip", "svc1", "--tcp=80:8080", "-n", "e2e-ns")).strip() == \
        "service/svc1 created"
    assert (await kubectl.ok("create", "serviceaccount", "sa1", "-n", "e2e-ns")).strip() == \
        "serviceaccount/sa1 created"
    ns = await get(kubectl, "namespaces", "e2e-ns", None)
    assert ns is not None and ns["status"]["phase"] == "Active"
    assert (await get(kubectl, "configmaps", "cm1", "e2e-ns") or {})["data"] == {"k": "v"}
    secret = await get(kubectl, "secrets", "s1", "e2e-ns")
    assert secret is not None and secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["p"]) == b"q"
    deploy = await get(kubectl, "deployments", "d1", "e2e-ns")
    assert deploy is not None and deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "d1"}}
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    svc = await get(kubectl, "services", "svc1", "e2e-ns")
    assert svc is not None and svc["spec"]["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(80, 8080)]
    assert await get(kubectl, "serviceaccounts", "sa1", "e2e-ns") is not None
    table = await kubectl.ok("get", "cm,secret,deploy,svc,sa", "-n", "e2e-ns")
    assert "configmap/cm1" in table and "secret/s1" in table and "deployment.apps/d1" in table
    assert "service/svc1" in table and "serviceaccount/sa1" in table
    again = await kubectl.fail("create", "configmap", "cm1", "--from-literal=k=v", "-n", "e2e-ns")
    assert 'error: failed to create configmap: configmaps "cm1" already exists' in again.err


async def test_run_creates_a_pod(kubectl: Kubectl) -> None:
    out = await kubectl.ok("run", "runner", "--image=busybox:1.36", "--labels=run=runner,team=e2e",
                           "--", "sleep", "3600")
    assert out.strip() == "pod/runner created"
    pod = await get(kubectl, "pods", "runner")
    assert pod is not None
    assert pod["metadata"]["labels"] == {"run": "runner", "team": "e2e"}
    assert pod["spec"]["containers"][0]["image"] == "busybox:1.36"
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "3600"]


# ------------------------------------------------------------------------------------- patches


async def test_patch_strategic_merge_and_json(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(DEPLOYMENT.format(name="pt", extra="")))
    out = await kubectl.ok("patch", "deployment", "pt", "-p",
                           '{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"redis:7"}]}}}}')
    assert out.strip() == "deployment.apps/pt patched"
    obj = await get(kubectl, "deployments", "pt")
    assert obj is not None and sorted(containers(obj)) == ["app", "extra"]  # merged by name, not replaced
    out = await kubectl.ok("patch", "deployment", "pt", "-p",
                           '{"spec":{"template":{"spec":{"containers":[{"name":"extra","$patch":"delete"}]}}}}')
    assert containers(await get(kubectl, "deployments", "pt") or {}) == ["app"]
    await kubectl.ok("create", "configmap", "ptc", "--from-literal=a=1", "--from-literal=b=2")
    out = await kubectl.ok("patch", "configmap", "ptc", "--type=merge", "-p", '{"data":{"a":null,"c":"3"}}')
    assert out.strip() == "configmap/ptc patched"
    assert (await get(kubectl, "configmaps", "ptc") or {})["data"] == {"b": "2", "c": "3"}
    out = await kubectl.ok("patch", "configmap", "ptc", "--type=json",
                           "-p", '[{"op":"replace","path":"/data/b","value":"20"},{"op":"remove","path":"/data/c"}]')
    assert out.strip() == "configmap/ptc patched"
    assert (await get(kubectl, "configmaps", "ptc") or {})["data"] == {"b": "20"}
    unchanged = await kubectl.ok("patch", "configmap", "ptc", "--type=merge", "-p", '{"data":{"b":"20"}}')
    assert unchanged.strip() == "configmap/ptc patched (no change)"


async def test_json_patch_failed_test_operation(kubectl: Kubectl) -> None:
    """apiserver patch.go answers NewGenericServerResponse(422, ...): the generic Invalid message."""
    await kubectl.ok("create", "configmap", "jpt", "--from-literal=b=20")
    bad = await kubectl.fail("patch", "configmap", "jpt", "--type=json", "-p",
                             '[{"op":"test","path":"/data/b","value":"nope"},{"op":"remove","path":"/data/b"}]')
    assert bad.err.strip() == "The request is invalid: the server rejected our request due to an error in our " \
                              "request", str(bad)
    assert (await get(kubectl, "configmaps", "jpt") or {})["data"] == {"b": "20"}


async def test_label_and_annotate(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "configmap", "lbl", "--from-literal=a=1")
    assert (await kubectl.ok("label", "configmap", "lbl", "tier=fe")).strip() == "configmap/lbl labeled"
    refused = await kubectl.fail("label", "configmap", "lbl", "tier=be")
    assert "'tier' already has a value (fe), and --overwrite is false" in refused.err
    assert "labeled" in await kubectl.ok("label", "configmap", "lbl", "tier=be", "--overwrite")
    assert (await kubectl.ok("annotate", "configmap", "lbl", "note=hello world")).strip() == \
        "configmap/lbl annotated"
    obj = await get(kubectl, "configmaps", "lbl")
    assert obj is not None and obj["metadata"]["labels"] == {"tier": "be"}
    assert obj["metadata"]["annotations"]["note"] == "hello world"
    assert (await kubectl.ok("label", "configmap", "lbl", "tier-")).strip() == "configmap/lbl unlabeled"
    assert "annotated" in await kubectl.ok("annotate", "configmap", "lbl", "note-")
    obj = await get(kubectl, "configmaps", "lbl")
    assert obj is not None and not obj["metadata"].get("labels") and "note" not in (
        obj["metadata"].get("annotations") or {})
    shown = await kubectl.ok("get", "cm", "-l", "!tier", "-o", "name")
    assert "configmap/lbl" in shown.split()


# ---------------------------------------------------------------------------- edit and replace


async def test_edit_with_an_editor_script(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "configmap", "ed", "--from-literal=color=red")
    script = kubectl.workdir / "editor.sh"
    script.write_text('#!/bin/sh\nsed -i "s/color: red/color: blue/" "$1"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    out = await kubectl.ok("edit", "configmap", "ed", env={"KUBE_EDITOR": str(script), "EDITOR": str(script)})
    assert out.strip() == "configmap/ed edited"
    assert (await get(kubectl, "configmaps", "ed") or {})["data"] == {"color": "blue"}
    noop = kubectl.workdir / "noop.sh"
    noop.write_text("#!/bin/sh\nexit 0\n")
    noop.chmod(noop.stat().st_mode | stat.S_IXUSR)
    result = await kubectl.run("edit", "configmap", "ed", env={"KUBE_EDITOR": str(noop)})
    assert result.rc == 0 and "Edit cancelled, no changes made." in result.err


async def test_replace_and_stale_resource_version(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "configmap", "rep", "--from-literal=k=one")
    current = await kubectl.ok("get", "configmap", "rep", "-o", "yaml")
    path = kubectl.write(current.replace("k: one", "k: two"), "rep.yaml")
    assert (await kubectl.ok("replace", "-f", path)).strip() == "configmap/rep replaced"
    assert (await get(kubectl, "configmaps", "rep") or {})["data"] == {"k": "two"}
    stale = kubectl.write(current.replace("k: one", "k: three"), "rep-stale.yaml")  # old resourceVersion
    conflict = await kubectl.fail("replace", "-f", stale)
    assert ('Error from server (Conflict): error when replacing "rep-stale.yaml": Operation cannot be fulfilled on '
            'configmaps "rep": the object has been modified; please apply your changes to the latest version and '
            "try again") in conflict.err, str(conflict)
    assert (await get(kubectl, "configmaps", "rep") or {})["data"] == {"k": "two"}
    forced = await kubectl.ok("replace", "--force", "-f", stale)
    assert 'configmap "rep" deleted' in forced and "configmap/rep replaced" in forced
    assert (await get(kubectl, "configmaps", "rep") or {})["data"] == {"k": "three"}


# --------------------------------------------------------------------- scale, cordon, rollouts


async def test_scale(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(DEPLOYMENT.format(name="sc", extra="")))
    assert (await kubectl.ok("scale", "deployment", "sc", "--replicas=3")).strip() == "deployment.apps/sc scaled"
    assert (await get(kubectl, "deployments", "sc") or {})["spec"]["replicas"] == 3
    refused = await kubectl.fail("scale", "deployment/sc", "--current-replicas=1", "--replicas=5")
    assert "Expected replicas to be 1, was 3" in refused.err, str(refused)
    assert (await get(kubectl, "deployments", "sc") or {})["spec"]["replicas"] == 3


async def test_cordon_and_uncordon(kubectl: Kubectl) -> None:
    assert (await kubectl.ok("cordon", "node2")).strip() == "node/node2 cordoned"
    try:
        node = await get(kubectl, "nodes", "node2", None)
        assert node is not None and node["spec"]["unschedulable"] is True
        table = await kubectl.ok("get", "node", "node2")
        assert re.search(r"^node2\s+Ready,SchedulingDisabled\s", table, re.M), table
        assert (await kubectl.ok("cordon", "node2")).strip() == "node/node2 already cordoned"
    finally:
        assert (await kubectl.ok("uncordon", "node2")).strip() == "node/node2 uncordoned"
    node = await get(kubectl, "nodes", "node2", None)
    assert node is not None and not node["spec"].get("unschedulable")


async def test_set_image_and_rollout_restart(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(DEPLOYMENT.format(name="ro", extra=SIDECAR)))
    out = await kubectl.ok("set", "image", "deployment/ro", "app=nginx:1.28")
    assert out.strip() == "deployment.apps/ro image updated"
    obj = await get(kubectl, "deployments", "ro")
    assert obj is not None
    images = {c["name"]: c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}
    assert images == {"app": "nginx:1.28", "side": "busybox:1.36"}
    generation = obj["metadata"]["generation"]
    assert (await kubectl.ok("rollout", "restart", "deployment/ro")).strip() == "deployment.apps/ro restarted"
    obj = await get(kubectl, "deployments", "ro")
    assert obj is not None and obj["metadata"]["generation"] == generation + 1
    restarted = obj["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", restarted)


# ------------------------------------------------------------------------------------- auth


async def test_token_auth_over_tls(kubectl: Kubectl) -> None:
    """kubectl sends the bearer token only over https; the served cluster checks it."""
    workdir = kubectl.workdir / "tls"
    workdir.mkdir(exist_ok=True)
    async with Cluster(serve=True, port=0, tls=True, token="e2e-secret-token",
                       kubeconfig_path=workdir / "kubeconfig.yaml") as secure:
        assert secure.url.startswith("https://127.0.0.1:")
        config = yaml.safe_load((workdir / "kubeconfig.yaml").read_text())
        assert config["clusters"][0]["cluster"].get("certificate-authority-data")
        tls = Kubectl(kubectl.label, kubectl.binary, secure, workdir)
        nodes = await tls.ok("get", "nodes", "-o", "name")
        assert nodes.split() == ["node/master", "node/node1", "node/node2"]
        assert (await tls.ok("create", "configmap", "over-tls", "--from-literal=a=b")).strip() == \
            "configmap/over-tls created"
        wrong = await tls.fail("get", "nodes", "--token=not-the-token")
        assert "error: You must be logged in to the server (Unauthorized)" in wrong.err, str(wrong)
        untrusted = kubectl.workdir / "tls" / "other-ca.pem"
        untrusted.write_bytes(trustme.CA().cert_pem.bytes())
        insecure = await tls.fail("get", "nodes", f"--certificate-authority={untrusted}")
        assert "x509" in insecure.err or "certificate" in insecure.err, str(insecure)


async def test_token_is_not_sent_over_plain_http(kubectl: Kubectl) -> None:
    """client-go reads auth info only for secure servers: over http the token-protected API says 401."""
    workdir = kubectl.workdir / "http-token"
    workdir.mkdir(exist_ok=True)
    async with Cluster(serve=True, port=0, token="e2e-http-token", kubeconfig_path=workdir / "kubeconfig.yaml") as c:
        assert c.url.startswith("http://")
        plain = Kubectl(kubectl.label, kubectl.binary, c, workdir)
        refused = await plain.fail("get", "nodes")
        # discovery fails first, so kubectl prints the 401's generic text (as against a real cluster)
        assert "error: You must be logged in to the server (the server has asked for the client to provide " \
               "credentials)" in refused.err, str(refused)


DIRECTIVES_BEFORE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: dirs
  finalizers: [e2e/a, e2e/b]
spec:
  selector: {matchLabels: {app: dirs}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}
  template:
    metadata: {labels: {app: dirs}}
    spec:
      containers:
      - {name: a, image: nginx, args: [one, two]}
      - {name: b, image: nginx}
"""
DIRECTIVES_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: dirs
  finalizers: [e2e/a]
spec:
  selector: {matchLabels: {app: dirs}}
  strategy: {type: Recreate}
  template:
    metadata: {labels: {app: dirs}}
    spec:
      containers:
      - {name: b, image: nginx}
      - {name: a, image: nginx, args: [two]}
"""


async def test_apply_sends_strategic_directives(kubectl: Kubectl) -> None:
    """Three-way apply emits $deleteFromPrimitiveList, $setElementOrder and $retainKeys."""
    assert "created" in await kubectl.ok("apply", "-f", kubectl.write(DIRECTIVES_BEFORE, "dirs.yaml"))
    assert "configured" in await kubectl.ok("apply", "-f", kubectl.write(DIRECTIVES_AFTER, "dirs.yaml"))
    obj = await get(kubectl, "deployments", "dirs")
    assert obj is not None
    assert obj["metadata"]["finalizers"] == ["e2e/a"]  # $deleteFromPrimitiveList
    assert obj["spec"]["strategy"] == {"type": "Recreate"}  # $retainKeys dropped rollingUpdate
    assert containers(obj) == ["b", "a"]  # $setElementOrder
    assert obj["spec"]["template"]["spec"]["containers"][1]["args"] == ["two"]
    await kubectl.cluster.client.patch("deployments", "dirs", {"metadata": {"finalizers": None}}, "default")


async def test_apply_client_side_then_server_side_migrates_ownership(kubectl: Kubectl) -> None:
    """kubectl moves the client-side apply manager's fields to the server-side one (csaupgrade)."""
    two = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mig}\ndata: {a: '1', b: '2'}\n"
    one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mig}\ndata: {a: '1'}\n"
    assert "created" in await kubectl.ok("apply", "-f", kubectl.write(two, "mig.yaml"))
    obj = await get(kubectl, "configmaps", "mig")
    assert obj is not None
    assert [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]] == \
        [("kubectl-client-side-apply", "Update")]
    out = await kubectl.ok("apply", "--server-side", "-f", kubectl.write(one, "mig.yaml"))
    assert out.strip() == "configmap/mig serverside-applied"
    obj = await get(kubectl, "configmaps", "mig")
    assert obj is not None and obj["data"] == {"a": "1"}, obj
    # kubectl's saveLastApplyAnnotationIfNecessary adds a co-owner of the annotation, then the
    # client-side manager's entry is folded into "kubectl" (server-side-apply.md, migration)
    assert {(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]} == \
        {("kubectl", "Apply"), ("kubectl-last-applied", "Apply")}


async def test_custom_resource_patches_label_and_strategic_refusal(kubectl: Kubectl) -> None:
    snap = ("apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: crp}\n"
            "spec: {source: {persistentVolumeClaimName: whatever}}\n")
    await kubectl.ok("create", "-f", kubectl.write(snap))
    refused = await kubectl.fail("patch", "vs", "crp", "-p", '{"metadata":{"labels":{"a":"b"}}}')
    assert ("error: application/strategic-merge-patch+json is not supported by snapshot.storage.k8s.io/v1, "
            "Kind=VolumeSnapshot: the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml") in refused.err
    assert "patched" in await kubectl.ok("patch", "vs", "crp", "--type=merge", "-p", '{"metadata":{"labels":{"a":"b"}}}')
    assert "labeled" in await kubectl.ok("label", "vs", "crp", "x=y")
    assert "annotated" in await kubectl.ok("annotate", "vs", "crp", "n=m")
    obj = await get(kubectl, "volumesnapshots.snapshot.storage.k8s.io", "crp")
    assert obj is not None and obj["metadata"]["labels"] == {"a": "b", "x": "y"}
    assert obj["metadata"]["annotations"] == {"n": "m"}


async def test_taint_generate_name_and_force_delete(kubectl: Kubectl) -> None:
    assert (await kubectl.ok("taint", "nodes", "node1", "dedicated=e2e:NoSchedule")).strip() == "node/node1 tainted"
    node = await get(kubectl, "nodes", "node1", None)
    assert node is not None and {"key": "dedicated", "value": "e2e", "effect": "NoSchedule"} in node["spec"]["taints"]
    assert (await kubectl.ok("taint", "nodes", "node1", "dedicated-")).strip() == "node/node1 untainted"
    node = await get(kubectl, "nodes", "node1", None)
    assert node is not None and not node["spec"].get("taints")
    generated = kubectl.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n", "gen.yaml")
    out = (await kubectl.ok("create", "-f", generated)).strip()
    assert re.fullmatch(r"configmap/gen-[a-z0-9]{5} created", out), out
    refused = await kubectl.fail("apply", "-f", generated)
    assert "error: from gen-: cannot use generate name with apply" in refused.err
    await kubectl.ok("run", "forced", "--image=nginx")
    result = await kubectl.run("delete", "pod", "forced", "--grace-period=0", "--force")
    assert result.rc == 0, str(result)
    assert "Warning: Immediate deletion does not wait for confirmation" in result.err
    assert result.out.startswith('pod "forced" force deleted')
    assert await get(kubectl, "pods", "forced") is None
    for i in range(3):
        await kubectl.ok("create", "configmap", f"bulk-{i}", "--from-literal=k=v")
    await kubectl.ok("label", "configmap", "bulk-0", "bulk-1", "bulk-2", "bulk=yes")
    chunked = await kubectl.ok("get", "cm", "-l", "bulk=yes", "--chunk-size=1", "-o", "name")
    assert chunked.split() == ["configmap/bulk-0", "configmap/bulk-1", "configmap/bulk-2"]
    out = await kubectl.ok("delete", "cm", "-l", "bulk=yes")
    assert [line.split('"')[1] for line in out.splitlines()] == ["bulk-0", "bulk-1", "bulk-2"]
    assert (await kubectl.cluster.client.list("configmaps", "default", label_selector="bulk=yes"))["items"] == []


async def test_delete_namespace_waits_for_its_contents(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "namespace", "doomed")
    await kubectl.ok("create", "configmap", "inside", "-n", "doomed", "--from-literal=a=b")
    await kubectl.ok("run", "inside-pod", "-n", "doomed", "--image=nginx")
    out = await kubectl.ok("delete", "namespace", "doomed")
    assert out.startswith('namespace "doomed" deleted')
    assert await get(kubectl, "namespaces", "doomed", None) is None
    assert (await kubectl.cluster.client.list("configmaps", "doomed"))["items"] == []
    assert (await kubectl.cluster.client.list("pods", "doomed"))["items"] == []


async def test_create_deployment_gets_the_rolling_update_defaults(kubectl: Kubectl) -> None:
    """SetDefaults_Deployment fills strategy.type and the 25%/25% rolling update field by field."""
    await kubectl.ok("create", "deployment", "pbdefaults", "--image=nginx:1.27")
    obj = await get(kubectl, "deployments", "pbdefaults")
    assert obj is not None
    assert obj["spec"]["strategy"] == {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    out = await kubectl.ok("describe", "deployment", "pbdefaults")
    assert re.search(r"^StrategyType:\s+RollingUpdate$", out, re.M), out


async def test_diff_uses_a_server_side_dry_run(kubectl: Kubectl) -> None:
    """``kubectl diff`` asks the server for a dry-run apply and compares; exit 1 means "differs"."""
    path = kubectl.write(DEPLOYMENT.format(name="dif", extra=""), "dif.yaml")
    new = await kubectl.run("diff", "-f", path)
    assert new.rc == 1, str(new)
    assert re.search(r"^\+  name: dif$", new.out, re.M), new.out
    assert await get(kubectl, "deployments", "dif") is None  # dry run stored nothing
    await kubectl.ok("apply", "-f", path)
    same = await kubectl.run("diff", "-f", path)
    assert (same.rc, same.out) == (0, ""), str(same)
    kubectl.write(DEPLOYMENT.format(name="dif", extra="").replace("nginx:1.27", "nginx:1.29"), "dif.yaml")
    changed = await kubectl.run("diff", "-f", path)
    assert changed.rc == 1, str(changed)
    assert re.search(r"^-\s+- image: nginx:1.27$", changed.out, re.M), changed.out
    assert re.search(r"^\+\s+- image: nginx:1.29$", changed.out, re.M), changed.out
    obj = await get(kubectl, "deployments", "dif")
    assert obj is not None and obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    out = await kubectl.ok("apply", "--server-side", "--dry-run=server", "-f", path)
    assert out.strip() == "deployment.apps/dif serverside-applied (server dry run)"
    obj = await get(kubectl, "deployments", "dif")
    assert obj is not None and obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"


async def test_server_side_apply_conflicts_with_an_update_manager(kubectl: Kubectl) -> None:
    """Fields set by `kubectl create` belong to the Update manager "kubectl-create" (printed with its version)."""
    await kubectl.ok("create", "configmap", "upd", "--from-literal=k=v", "--from-literal=j=v")
    obj = await get(kubectl, "configmaps", "upd")
    assert obj is not None
    assert [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]] == [("kubectl-create", "Update")]
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: upd}\ndata: {k: w, j: w}\n"
    conflict = await kubectl.fail("apply", "--server-side", "-f", kubectl.write(body))
    assert 'error: Apply failed with 2 conflicts: conflicts with "kubectl-create" using v1:\n- .data.j\n- .data.k\n' \
        in conflict.err, str(conflict)
    shared = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: upd}\ndata: {k: v}\n"  # same value: co-ownership
    assert "serverside-applied" in await kubectl.ok("apply", "--server-side", "-f", kubectl.write(shared))
    obj = await get(kubectl, "configmaps", "upd")
    assert obj is not None
    owners = {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}
    assert owners["kubectl"] == {"f:data": {"f:k": {}}}
    assert owners["kubectl-create"] == {"f:data": {".": {}, "f:j": {}, "f:k": {}}}
