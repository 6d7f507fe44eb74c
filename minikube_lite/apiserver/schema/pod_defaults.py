"""Pod-spec defaulting, shared by the Pod, workload and batch defaulters (``SetDefaults_PodSpec``, ``SetDefaults_Container``)."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def _container_defaults(c: JSON) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c:
        image = str(c.get("image") or "")
        tag = image.rsplit("/", 1)[-1]
        has_tag = ":" in tag and "@" not in image
        c["imagePullPolicy"] = "Always" if (not has_tag or tag.endswith(":latest")) and "@" not in image \
            else "IfNotPresent"
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def pod_spec_defaults(spec: JSON) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                _container_defaults(c)
    for vol in spec.get("volumes") or []:
        if isinstance(vol, dict):
            for src in ("configMap", "secret"):
                if isinstance(vol.get(src), dict):
                    vol[src].setdefault("defaultMode", 420)
