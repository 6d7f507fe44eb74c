"""The CSI external-provisioner, split by concern (storage.md §3).

``controller`` holds the control loop; the other modules hold the rules it applies and are
importable on their own. ``minikube_lite.controllers.provisioner`` re-exports the public names.
"""
