"""The CSI external-provisioner, split by concern (storage.md §3).

``controller`` holds the control loop (:class:`ExternalProvisioners`, what the cluster starts);
``messages`` (annotations, reasons, upstream message literals), ``errors``, ``fields``,
``topology``, ``requests``, ``driver``, ``restore`` and ``persistent_volume`` hold the rules it
applies; import each name from the module that defines it.
"""
