#!/usr/bin/env bash
# Example 03: a StorageClass restricted to zone cn-hangzhou-d on a cluster whose nodes are all in
# cn-hangzhou-b: the pod cannot be scheduled; restricting the class to cn-hangzhou-b fixes it.
# Needs a running `minikube-lite serve` and KUBECONFIG pointing at it (see ../README.md).
set -euo pipefail
cd "$(dirname "$0")"
KUBECTL=${KUBECTL:-kubectl}
WAIT=${WAIT:-60s}
ZONE_KEY=topology.diskplugin.csi.alibabacloud.com/zone
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

say "1. A class with delayed binding and allowedTopologies: disks only in zone cn-hangzhou-d."
k apply -f storageclass.yaml
k get storageclass csi-disk-topology -o jsonpath='{.volumeBindingMode}{"  "}{.allowedTopologies}{"\n"}'

say "2. A claim of that class stays Pending: no pod uses it yet, so nothing is bound or provisioned."
k apply -f pvc.yaml
wait_event pvc/disk-pvc-topology WaitForFirstConsumer
k get pvc disk-pvc-topology

say "3. A pod that uses the claim: it stays Pending too."
k apply -f pod.yaml
k wait --for=jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}'=Unschedulable pod/disk-pod-topology --timeout="$WAIT"
wait_event pod/disk-pod-topology FailedScheduling
k get pod disk-pod-topology -o wide

say "4. Why? One node is tainted (the control plane), the other two 'didn't find available persistent volumes to bind'."
events pod/disk-pod-topology FailedScheduling -o custom-columns='TYPE:.type,REASON:.reason,MESSAGE:.message'

say "5. The class allows only cn-hangzhou-d, but the workers' zone label says cn-hangzhou-b."
k get nodes -L "$ZONE_KEY"
printf '$ kubectl describe node node1 | grep -E "^Name:|%s"\n' "$ZONE_KEY"
"$KUBECTL" describe node node1 | grep -E "^Name:|$ZONE_KEY"

say "6. The fix: limit the class to cn-hangzhou-b (allowedTopologies may be edited in place), then delete the pod and create it again, as the course does."
k apply -f storageclass-zone-b.yaml
k delete -f pod.yaml --timeout="$WAIT"
k apply -f pod.yaml
k wait --for=condition=Ready pod/disk-pod-topology --timeout="$WAIT"
k get pod disk-pod-topology -o wide
k get pvc disk-pvc-topology
k get pv "$("$KUBECTL" get pvc disk-pvc-topology -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.metadata.name}{"  "}{.spec.nodeAffinity.required.nodeSelectorTerms}{"\n"}'
events pod/disk-pod-topology Scheduled -o custom-columns='TYPE:.type,REASON:.reason,MESSAGE:.message'

say "Clean up."
k delete -f pod.yaml -f pvc.yaml --timeout="$WAIT"
k delete -f storageclass-zone-b.yaml
say "Done."
