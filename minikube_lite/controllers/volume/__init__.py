"""Volume controllers of kube-controller-manager: the PV binder, protection finalizers, attach/detach
and expansion (the in-tree side of storage)."""
