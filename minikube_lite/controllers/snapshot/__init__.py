"""The snapshot controller (external-snapshotter's common controller) and the snapshot object helpers
it shares with the csi-snapshotter sidecar."""
