"""The fake kubelet of every node: it registers the Nodes, runs the pods bound to them, and grows
the file systems of expanded volumes. Like a real kubelet it talks to the API only through the
client (and to CSI drivers only through the CSI protocol).

Modules:

- ``pods``: the ``kubelet`` component, one reconcile loop for every node's pods; it walks the
  stage table below.
- ``stages``: the stage table, as data (kwok's ``Stage`` resources: selector, delay, next).
- ``containers``: when started containers exit, restarts and CrashLoopBackOff (the ``running`` stage).
- ``containerd``: what the container runtime knows (containers, image references, ids).
- ``volumes``: the volume manager (claims resolved, CSI volumes waited on until attached).
- ``status``: the pod status generated from the runtime (``generateAPIPodStatus``).
- ``events``: kubelet's event reasons and messages and the recorder that writes them.
- ``node``: the Node object each kubelet registers; ``heartbeat``: its Lease and status heartbeats.
- ``volume_expansion``: NodeExpandVolume for claims in use (component ``kubelet-volume-expansion``).

The pod lifecycle (``stages.STAGES``). A stage's delay is a timing of ``config.Timings`` counted
from entering the stage; its step then changes the status and records the events listed (exact
upstream reasons and messages), and the pod enters the next stage:

============  ==============================================  ===================  ==========================================  ===============================
stage         waits for                                       delay (Timings)      changes in the pod status                   events (type reason)
============  ==============================================  ===================  ==========================================  ===============================
volumes       node network ready (unless hostNetwork);        --                   Pending, hostIP, startTime, containers      Warning NetworkNotReady,
              claims bound; CSI volumes attached                                   waiting ContainerCreating                   Warning FailedMount (retried
                                                                                                                               after kubeletSyncRetry)
mounting      its delay (volumes mounted)                     volumeMountDelay     --                                          --
sandbox       its delay (sandbox and network up)              podStartDelay        PodReadyToStartContainers True, podIP       --
pull          the previous container started (init first)     --                   image, imageID                              Normal Pulled (already present)
                                                                                                                               or Normal Pulling
pulling       its delay (image pulled)                        imagePullDelay       --                                          Normal Pulled (Successfully ...)
create        the image present                               --                   containerID, running (init: Completed)      Normal Created, Normal Started
running       every container started; exits after            -- (per container:   Running, conditions True; exits, restarts,  Warning BackOff; on restart
              containerRunDuration for batch pods             containerRunDuration CrashLoopBackOff                            Pulled, Created, Started
                                                              after its start)
done          every container exited, none restarts           --                   Succeeded or Failed, Ready False            --
                                                                                   (PodCompleted); pod IP released
killing       a deletionTimestamp (from any stage)            --                   --                                          Normal Killing (per running
                                                                                                                               container)
stopping      its delay (at most the grace period; none when  podTerminationDelay  containers terminated Completed, final      --
              no container runs)                                                   status
killed        the containers stopped                          --                   pod deleted with grace period 0             --
============  ==============================================  ===================  ==========================================  ===============================

``pull``, ``pulling`` and ``create`` repeat for each container (init containers first, in spec
order); the sandbox's pod IP is written at once when an image must be pulled. A stopped node
(``minikube-lite.io/down``) or one whose Ready condition is Unknown runs no stage at all.
"""
