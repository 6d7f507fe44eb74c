"""Real kubectl against the types a kubeadm 1.35 cluster serves: api-resources, apply, get, describe, explain."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubectl_runner import Kubectl

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DATA = Path(__file__).parent / "data"
COLUMNS = ("NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")
# Groups a bare kubeadm cluster does not have: minikube-lite installs the snapshot CRDs at start.
ADDON_GROUPS = ("snapshot.storage.k8s.io/",)


def expected_api_resources() -> set[tuple[str, ...]]:
    rows = set()
    for line in (DATA / "api-resources-1.35.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rows.add(tuple(line.split()))
    return rows


def parse_columns(text: str, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Cut kubectl's fixed-width table at the header's column starts ("-" for an empty cell)."""
    lines = text.splitlines()
    header = lines[0]
    starts = [header.index(c) for c in columns]
    rows = []
    for line in lines[1:]:
        cells = []
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else None
            cells.append(line[start:end].strip() or "-")
        rows.append(tuple(cells))
    return rows


async def test_api_resources_match_a_kubeadm_1_35_cluster(kubectl: Kubectl) -> None:
    out = await kubectl.ok("api-resources")
    got = {row for row in parse_columns(out, COLUMNS) if not row[2].startswith(ADDON_GROUPS)}
    expected = expected_api_resources()
    assert sorted(expected - got) == [] and sorted(got - expected) == []


@pytest.mark.parametrize(("name", "api_version", "verbs", "categories"), [
    ("pods", "v1", "create,delete,deletecollection,get,list,patch,update,watch", "all"),
    ("bindings", "v1", "create", "-"),
    ("componentstatuses", "v1", "get,list", "-"),
    ("namespaces", "v1", "create,delete,get,list,patch,update,watch", "-"),
    ("tokenreviews", "authentication.k8s.io/v1", "create", "-"),
    ("jobs", "batch/v1", "create,delete,deletecollection,get,list,patch,update,watch", "all"),
    ("horizontalpodautoscalers", "autoscaling/v2", "create,delete,deletecollection,get,list,patch,update,watch",
     "all"),
    ("apiservices", "apiregistration.k8s.io/v1", "create,delete,deletecollection,get,list,patch,update,watch",
     "api-extensions"),
    ("validatingadmissionpolicies", "admissionregistration.k8s.io/v1",
     "create,delete,deletecollection,get,list,patch,update,watch", "api-extensions"),
])
async def test_api_resources_wide_verbs_and_categories(kubectl: Kubectl, name: str, api_version: str, verbs: str,
                                                       categories: str) -> None:
    out = await kubectl.ok("api-resources", "-o", "wide")
    rows = parse_columns(out, (*COLUMNS, "VERBS", "CATEGORIES"))
    row = next(r for r in rows if r[0] == name and r[2] == api_version)
    assert row[5:] == (verbs, categories)


async def test_apply_get_describe_of_rbac_policy_and_networking(kubectl: Kubectl) -> None:
    manifest = kubectl.write((DATA / "kubeadm-types.yaml").read_text(), "kubeadm-types.yaml")
    applied = await kubectl.ok("apply", "-f", manifest)
    assert "role.rbac.authorization.k8s.io/pod-reader created" in applied
    assert "priorityclass.scheduling.k8s.io/high created" in applied
    assert (await kubectl.ok("get", "sa", "app")).splitlines()[1].split()[0] == "app"
    role = (await kubectl.ok("get", "role", "pod-reader")).splitlines()
    assert role[0].split() == ["NAME", "CREATED", "AT"] and role[1].split()[0] == "pod-reader"
    binding = (await kubectl.ok("get", "rolebinding", "read-pods", "-o", "wide")).splitlines()
    assert binding[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert binding[1].split()[:2] == ["read-pods", "Role/pod-reader"]
    assert binding[1].split()[-2:] == ["jane", "default/app"]
    pdb = (await kubectl.ok("get", "pdb", "web")).splitlines()
    assert pdb[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert pdb[1].split()[:4] == ["web", "1", "N/A", "0"]
    pc = (await kubectl.ok("get", "pc")).splitlines()
    assert pc[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert {line.split()[0] for line in pc[1:]} == {"high", "system-cluster-critical", "system-node-critical"}
    ing = (await kubectl.ok("get", "ingress", "web")).splitlines()
    assert ing[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert ing[1].split()[:4] == ["web", "nginx", "web.example.com", "80"]
    netpol = (await kubectl.ok("get", "netpol", "db")).splitlines()
    assert netpol[0].split() == ["NAME", "POD-SELECTOR", "AGE"] and netpol[1].split()[:2] == ["db", "app=db"]
    described = await kubectl.ok("describe", "role", "pod-reader")
    assert "Name:         pod-reader" in described and "[get list watch]" in described
    again = await kubectl.ok("apply", "-f", manifest)
    assert "role.rbac.authorization.k8s.io/pod-reader unchanged" in again


async def test_bad_manifests_are_refused_with_the_upstream_message(kubectl: Kubectl) -> None:
    bad = kubectl.write("""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: nopath}
spec:
  rules:
  - http:
      paths:
      - path: /
        backend: {service: {name: web, port: {number: 80}}}
""", "bad-ingress.yaml")
    result = await kubectl.fail("apply", "-f", bad)
    assert 'The Ingress "nopath" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must ' \
           "be specified" in result.err
    await kubectl.ok("create", "rolebinding", "rb1", "--role=pod-reader", "--user=joe")
    result = await kubectl.fail("patch", "rolebinding", "rb1", "--type=merge", "-p", '{"roleRef":{"name":"x"}}')
    assert "cannot change roleRef" in result.err
    result = await kubectl.fail("delete", "pc", "system-node-critical")
    assert 'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class ' \
           "and cannot be deleted" in result.err
    result = await kubectl.fail("run", "p1", "--image=nginx", "--overrides",
                                '{"spec":{"priorityClassName":"foo"}}')
    assert 'pods "p1" is forbidden: no PriorityClass with name foo was found' in result.err


async def test_cluster_objects_a_kubeadm_cluster_has(kubectl: Kubectl) -> None:
    listed = await kubectl.run("get", "componentstatuses")
    assert listed.rc == 0 and "Warning: v1 ComponentStatus is deprecated in v1.19+" in listed.err
    cs = listed.out.splitlines()
    assert cs[0].split() == ["NAME", "STATUS", "MESSAGE", "ERROR"]
    assert sorted(line.split()[:2] for line in cs[1:]) == [["controller-manager", "Healthy"], ["etcd-0", "Healthy"],
                                                           ["scheduler", "Healthy"]]
    services = (await kubectl.ok("get", "apiservices")).splitlines()
    assert services[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    assert any(line.split()[:3] == ["v1.apps", "Local", "True"] for line in services)
    crb = await kubectl.ok("get", "clusterrolebinding", "cluster-admin", "-o", "wide")
    assert crb.splitlines()[1].split()[:2] == ["cluster-admin", "ClusterRole/cluster-admin"]
    assert "system:masters" in crb
    assert "exempt" in await kubectl.ok("get", "flowschemas")


async def test_explain_job_spec(kubectl: Kubectl) -> None:
    out = await kubectl.ok("explain", "job.spec")
    assert "KIND:       Job" in out and "FIELD: spec <JobSpec>" in out
    assert "template\t<PodTemplateSpec> -required-" in out


CSR_PEM = ("-----BEGIN CERTIFICATE REQUEST-----\nMIIBADCBpwIBADAPMQ0wCwYDVQQDDARqYW5l\n"
           "-----END CERTIFICATE REQUEST-----\n")


async def test_certificate_signing_request_approve(kubectl: Kubectl) -> None:
    import base64

    request = base64.b64encode(CSR_PEM.encode()).decode()
    manifest = kubectl.write(f"""apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {{name: jane}}
spec:
  request: {request}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
""", "csr.yaml")
    await kubectl.ok("apply", "-f", manifest)
    pending = (await kubectl.ok("get", "csr", "jane")).splitlines()
    assert pending[0].split() == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    assert pending[1].split()[2:] == ["kubernetes.io/kube-apiserver-client", "minikube-lite-admin", "24h", "Pending"]
    assert "approved" in await kubectl.ok("certificate", "approve", "jane")
    assert (await kubectl.ok("get", "csr", "jane")).splitlines()[1].split()[-1] == "Approved"
