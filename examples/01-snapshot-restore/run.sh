#!/usr/bin/env bash
# Example 01: dynamic provisioning -> VolumeSnapshot -> restore into a new claim -> delete the snapshot.
# Needs a running `minikube-lite serve` and KUBECONFIG pointing at it (see ../README.md).
# KUBECTL=/path/to/kubectl picks the kubectl binary; WAIT=60s bounds every wait.
set -euo pipefail
cd "$(dirname "$0")"
KUBECTL=${KUBECTL:-kubectl}
WAIT=${WAIT:-60s}
say() { printf '\n### %s\n' "$*"; }
k() { printf '$ kubectl %s\n' "$*"; "$KUBECTL" "$@"; }

say "The cluster: one control-plane node (no pods) and two workers, all in zone cn-hangzhou-b."
k get nodes
say "The cloud-disk CSI driver and the snapshot CRDs are installed, as csi-disk and csi-external-snapshot were in the course."
k get csidrivers
k get crd volumesnapshots.snapshot.storage.k8s.io

say "1. A StorageClass, a claim that dynamically provisions a cloud disk, and a pod that uses it."
k apply -f storageclass.yaml -f pvc.yaml -f pod.yaml
k wait --for=jsonpath='{.status.phase}'=Bound pvc/disk-pvc --timeout="$WAIT"
k wait --for=condition=Ready pod/disk-pod --timeout="$WAIT"
k get pvc disk-pvc
k get pod disk-pod -o wide

say "2. snapshotclass.yaml: which CSI driver takes the snapshots."
k apply -f snapshotclass.yaml
k get volumesnapshotclass disk-snapshotclass

say "3. snapshot.yaml: a VolumeSnapshot whose source is disk-pvc. The snapshot controller creates a VolumeSnapshotContent, the CSI sidecar asks the cloud for a snapshot."
k apply -f snapshot.yaml
k wait --for=jsonpath='{.status.readyToUse}'=true volumesnapshot/disk-snapshot --timeout="$WAIT"
k get volumesnapshot disk-snapshot
k get volumesnapshotcontent

say "4. The content records the cloud's snapshot id (Snapshot Handle) and the source volume (the PV behind disk-pvc)."
k get volumesnapshotcontent -o custom-columns='NAME:.metadata.name,SNAPSHOTHANDLE:.status.snapshotHandle,SOURCEVOLUME:.spec.source.volumeHandle,READYTOUSE:.status.readyToUse'
k get pv "$("$KUBECTL" get pvc disk-pvc -o jsonpath='{.spec.volumeName}')" -o custom-columns='PV:.metadata.name,VOLUMEHANDLE:.spec.csi.volumeHandle'

say "5. Restore: a new claim with dataSource = disk-snapshot; the provisioner creates a disk from the snapshot."
k apply -f restore.yaml
k wait --for=jsonpath='{.status.phase}'=Bound pvc/restore-pvc --timeout="$WAIT"
k wait --for=condition=Ready pod/restore-pod --timeout="$WAIT"
k get pvc restore-pvc
k get pod restore-pod -o wide
k describe pvc restore-pvc

say "6. Delete the snapshot through its VolumeSnapshot: the dynamically created content (and the cloud snapshot) go with it."
k delete volumesnapshot disk-snapshot --timeout="$WAIT"
k get volumesnapshot,volumesnapshotcontent

say "Clean up: pods, claims (their disks are deleted: reclaimPolicy Delete) and the classes."
k delete -f restore.yaml -f pod.yaml -f pvc.yaml --timeout="$WAIT"
k delete -f snapshotclass.yaml -f storageclass.yaml
say "Done."
