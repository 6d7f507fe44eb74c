"""The CSI sidecars, one per driver as deployed upstream: external-provisioner, -attacher (in
``volume/attach_detach``), -resizer, -snapshotter and the capacity tracker. They call drivers only
through :mod:`minikube_lite.csi.calls`."""
