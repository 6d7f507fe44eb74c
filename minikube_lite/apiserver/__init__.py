"""The API server: everything between an HTTP request and a stored object.

- ``wire/``: routes, media types, tables, watch, discovery, OpenAPI (bytes in, bytes out);
- ``engine.py``: the request path of every verb and the write path (create, update, patch);
  ``reads.py`` (list, watch) and ``deletion.py`` (delete, finalizers) are its other paths;
  ``results.py`` and ``query_params.py`` hold what every verb answers and reads;
- ``engine_services.py``: ``EngineServices``, the engine as the handlers below see it (they
  never import the engine, so the imports run one way: engine -> handlers -> engine_services);
- ``storage/``: the revisioned Backend protocol, the in-memory store and the etcd store;
- ``admission/``, ``schema/``, ``apply/``: the steps a write passes (admission plugins;
  decode checks, defaulting and validation; patch, server-side apply and managedFields);
- ``resources/``: types with behaviour of their own (CRDs, subresources, reviews, event views);
- ``registry.py``, ``errors.py``, ``objects.py``, ``selectors.py``, ``bootstrap*.py``: the
  served types, the Status errors, metadata helpers, selectors, and the objects every cluster starts with.

Nothing here imports controllers, the scheduler, the kubelet, CSI or the cloud.
"""
