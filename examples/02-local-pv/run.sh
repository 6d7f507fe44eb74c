#!/usr/bin/env bash
# Example 02: a static local PV on node1 + a WaitForFirstConsumer class: the claim binds only
# once its pod is scheduled, and the scheduler only picks node1.
# Needs a running `minikube-lite serve` and KUBECONFIG pointing at it (see ../README.md).
set -euo pipefail
cd "$(dirname "$0")"
KUBECTL=${KUBECTL:-kubectl}
WAIT=${WAIT:-60s}
say() { printf '\n### %s\n' "$*"; }
k() { printf '$ kubectl %s\n' "$*"; "$KUBECTL" "$@"; }
# Events of one object by uid, so events left by an earlier run with the same names do not show.
events() {
  local uid
  uid=$("$KUBECTL" get "$1" -o jsonpath='{.metadata.uid}')
  printf '$ kubectl get events --field-selector involvedObject.uid=<uid of %s>%s\n' "$1" "${2:+,reason=$2}"
  "$KUBECTL" get events --field-selector "involvedObject.uid=$uid${2:+,reason=$2}" "${@:3}"
}
# Wait (bounded) until an object has an event with this reason.
wait_event() {
  local uid i
  uid=$("$KUBECTL" get "$1" -o jsonpath='{.metadata.uid}')
  for i in $(seq 1 300); do
    [ -n "$("$KUBECTL" get events --field-selector "involvedObject.uid=$uid,reason=$2" -o name)" ] && return 0
    sleep 0.2
  done
  echo "no $2 event on $1 after 60s" >&2
  return 1
}

say "1. The class: no provisioner, binding delayed until a pod uses the claim (already in the default cluster; storageclass.yaml shows it)."
k get storageclass local-storage

say "2. A local PV: /share on node1, reachable only from node1 (nodeAffinity kubernetes.io/hostname In [node1])."
k apply -f local-pv.yaml
k wait --for=jsonpath='{.status.phase}'=Available pv/local-pv --timeout="$WAIT"
k get pv local-pv

say "3. A claim for it. A matching PV exists, yet the PV controller does not bind: the class says WaitForFirstConsumer."
k apply -f pvc.yaml
wait_event pvc/local-pvc WaitForFirstConsumer
k get pvc local-pvc
events pvc/local-pvc

say "4. A pod using the claim. The scheduler checks the PV's nodeAffinity on each node: only node1 fits, so it binds the claim to local-pv and the pod to node1."
k apply -f pod.yaml
k wait --for=condition=Ready pod/local-pod --timeout="$WAIT"
k get pod local-pod -o wide
k get pvc local-pvc
k get pv local-pv
events pod/local-pod

say "5. A second claim and pod (second-claim.yaml): local-pv is taken and static PVs are not created on demand, so no node fits."
k apply -f second-claim.yaml
k wait --for=jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}'=Unschedulable pod/local-pod-2 --timeout="$WAIT"
wait_event pod/local-pod-2 FailedScheduling
k get pod local-pod-2 -o wide
events pod/local-pod-2 FailedScheduling -o custom-columns='TYPE:.type,REASON:.reason,MESSAGE:.message'
k delete -f second-claim.yaml --timeout="$WAIT"

say "Clean up: with reclaimPolicy Retain the PV is Released, not deleted; the administrator removes it."
k delete -f pod.yaml -f pvc.yaml --timeout="$WAIT"
k wait --for=jsonpath='{.status.phase}'=Released pv/local-pv --timeout="$WAIT"
k get pv local-pv
k delete -f local-pv.yaml --timeout="$WAIT"
say "Done."
