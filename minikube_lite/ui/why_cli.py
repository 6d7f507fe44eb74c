"""``minikube-lite why-pending POD``: ask a running server why a pod is Pending, print a table.

It calls the server's ``/minikube-lite/v1/why-pending/...`` route (the scheduler's filters run
there, against the cluster's own state), with the server, token and CA of a kubeconfig, the
way kubectl finds them, or of ``--server``/``--token``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from .serving import WHY_PENDING_PREFIX

JSON = dict[str, Any]
REQUEST_TIMEOUT_S = 30.0


class WhyPendingError(Exception):
    """A problem reaching the server or reading the kubeconfig, worded for the terminal."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("why-pending", help="why a pod is Pending: the scheduler's verdict per node and its claims")
    p.add_argument("pod", help="pod name")
    p.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's, else default)")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    p.add_argument("--server", help="API server URL (instead of a kubeconfig)")
    p.add_argument("--token", help="bearer token (with --server)")
    p.add_argument("-o", "--output", choices=["table", "json"], default="table")


def run(args: argparse.Namespace) -> int:
    try:
        target = resolve_target(args)
        namespace = args.namespace or target.namespace
        status, body = fetch(target, namespace, args.pod)
    except WhyPendingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        message = body.get("message") if isinstance(body, dict) else None
        reason = body.get("reason") if isinstance(body, dict) else None
        print(f"Error from server ({reason or status}): {message or body}", file=sys.stderr)
        return 1
    if args.output == "json":
        print(json.dumps(body, indent=2))
    else:
        print(render_table(body))
    return 0


class Target:
    def __init__(self, server: str, token: str | None, ca_pem: str | None, insecure: bool, namespace: str) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.ca_pem = ca_pem
        self.insecure = insecure
        self.namespace = namespace


def resolve_target(args: argparse.Namespace) -> Target:
    if args.server:
        return Target(args.server, args.token, None, False, "default")
    path = args.kubeconfig or (os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or
                               str(Path.home() / ".kube" / "config"))
    try:
        config = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise WhyPendingError(f"cannot read kubeconfig {path}: {exc}") from None
    context_name = config.get("current-context")
    context = _named(config.get("contexts"), context_name).get("context") or {}
    cluster = _named(config.get("clusters"), context.get("cluster")).get("cluster") or {}
    user = _named(config.get("users"), context.get("user")).get("user") or {}
    if not cluster.get("server"):
        raise WhyPendingError(f"kubeconfig {path}: no server for context {context_name!r}")
    ca_pem = None
    if cluster.get("certificate-authority-data"):
        ca_pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
    elif cluster.get("certificate-authority"):
        ca_pem = Path(cluster["certificate-authority"]).read_text()
    return Target(cluster["server"], args.token or user.get("token"), ca_pem,
                  bool(cluster.get("insecure-skip-tls-verify")), context.get("namespace") or "default")


def _named(entries: Any, name: Any) -> JSON:
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return {}


def fetch(target: Target, namespace: str, pod: str) -> tuple[int, Any]:
    url = (f"{target.server}{WHY_PENDING_PREFIX}/why-pending/namespaces/{urllib.parse.quote(namespace, safe='')}"
           f"/pods/{urllib.parse.quote(pod, safe='')}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if target.token:
        request.add_header("Authorization", f"Bearer {target.token}")
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cadata=target.ca_pem) if target.ca_pem else ssl.create_default_context()
        if target.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode(errors="replace").strip()
    except (urllib.error.URLError, OSError) as exc:
        raise WhyPendingError(f"cannot reach {target.server}: {exc}") from None


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]


def _topologies(terms: list[JSON]) -> str:
    return " or ".join(" and ".join(f"{e.get('key')} in [{', '.join(e.get('values') or [])}]"
                                    for e in t.get("matchLabelExpressions") or []) for t in terms)


def render_table(why: JSON) -> str:
    """What a learner reads: the verdict, one line per node, then where each claim stands."""
    ns, name = why.get("namespace"), why.get("name")
    lines = []
    if why.get("pending"):
        lines.append(f"Pod {ns}/{name}: Pending, not scheduled to any node.")
    else:
        lines.append(f"Pod {ns}/{name}: {why.get('phase')}" + (f" on {why['node_name']}." if why.get("node_name") else "."))
    lines.append(str(why.get("summary") or ""))
    lines.extend(str(n) for n in why.get("notes") or [])
    nodes = why.get("nodes") or []
    if nodes:
        lines.append("")
        lines.extend(_table(["NODE", "ZONE", "FITS", "PLUGIN", "REASON"],
                            [[n["node"], n.get("zone") or "<none>", "yes" if n["fits"] else "no",
                              n.get("plugin") or "", ", ".join(n.get("reasons") or [])] for n in nodes]))
    claims = why.get("claims") or []
    if claims:
        lines.append("")
        rows = []
        for c in claims:
            volume = c.get("volume") or {}
            rows.append([c["name"], c.get("phase") or ("<missing>" if not c.get("exists") else ""),
                         c.get("storage_class") or "<none>", c.get("binding_mode") or "<none>",
                         c.get("selected_node") or "<none>", c.get("volume_name") or "<none>",
                         ",".join(volume.get("zones") or []) or "<none>"])
        lines.extend(_table(["CLAIM", "PHASE", "CLASS", "BINDING MODE", "SELECTED NODE", "VOLUME", "VOLUME ZONES"], rows))
        for c in claims:
            extra = []
            if c.get("allowed_topologies"):
                extra.append(f"allowedTopologies: {_topologies(c['allowed_topologies'])}")
            if (c.get("volume") or {}).get("volume_handle"):
                extra.append(f"volume handle: {c['volume']['volume_handle']}")
            if c.get("problem"):
                extra.append(str(c["problem"]))
            extra.extend(f"Warning {w.get('reason')}: {w.get('message')}" for w in c.get("warnings") or [])
            if extra:
                lines.append(f"{c['name']}:")
                lines.extend(f"  {e}" for e in extra)
    return "\n".join(lines)
