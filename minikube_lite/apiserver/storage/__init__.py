"""Where objects live: the narrow revisioned Backend protocol, the in-memory store that implements
it, and the etcd-backed store. Nothing here knows about resource types beyond their keys."""
