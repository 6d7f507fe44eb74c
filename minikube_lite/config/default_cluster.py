"""The course's cluster (DESIGN.md "Contracts"), the cluster a config-less ``Cluster()`` runs.

The same text as ``examples/clusters/default.yaml`` (tests/test_config.py holds them equal).
"""

DEFAULT_CLUSTER_YAML = """\
# The cluster of the course "存储快照与拓扑调度": a control-plane node and two workers, all in
# zone cn-hangzhou-b; the cloud also offers zone cn-hangzhou-d (the zone the course's
# zone-restricted StorageClass asks for, which no node is in).
nodes:
  - name: master
    controlPlane: true          # label node-role.kubernetes.io/control-plane="" + NoSchedule taint
    zone: cn-hangzhou-b
  - name: node1
    zone: cn-hangzhou-b
  - name: node2
    zone: cn-hangzhou-b

cloud:
  region: cn-hangzhou
  zones: [cn-hangzhou-b, cn-hangzhou-d]

drivers:
  - name: diskplugin.csi.alibabacloud.com   # the course's "csi-disk" plugin
    type: cloud-disk
    attachRequired: true
  - name: hostpath.csi.k8s.io
    type: local
    attachRequired: true
    podInfoOnMount: true
    fsGroupPolicy: File
    volumeLifecycleModes: [Persistent, Ephemeral]

objects:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: alicloud-disk-ssd
      annotations:
        storageclass.kubernetes.io/is-default-class: "true"
    provisioner: diskplugin.csi.alibabacloud.com
    parameters:
      type: cloud_ssd
    reclaimPolicy: Delete
    volumeBindingMode: Immediate
    allowVolumeExpansion: true
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: alicloud-disk-topology
    provisioner: diskplugin.csi.alibabacloud.com
    parameters:
      type: cloud_ssd
    reclaimPolicy: Delete
    volumeBindingMode: WaitForFirstConsumer
    allowVolumeExpansion: true
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: csi-hostpath-sc
    provisioner: hostpath.csi.k8s.io
    reclaimPolicy: Delete
    volumeBindingMode: Immediate
    allowVolumeExpansion: true
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: local-storage
    provisioner: kubernetes.io/no-provisioner
    reclaimPolicy: Retain
    volumeBindingMode: WaitForFirstConsumer
  - apiVersion: snapshot.storage.k8s.io/v1
    kind: VolumeSnapshotClass
    metadata:
      name: default-snapclass
      annotations:
        snapshot.storage.kubernetes.io/is-default-class: "true"
    driver: diskplugin.csi.alibabacloud.com
    deletionPolicy: Delete
  - apiVersion: snapshot.storage.k8s.io/v1
    kind: VolumeSnapshotClass
    metadata:
      name: csi-hostpath-snapclass
    driver: hostpath.csi.k8s.io
    deletionPolicy: Delete
"""
