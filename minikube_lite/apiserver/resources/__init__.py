"""Resource types with their own behaviour beyond store-and-serve: custom resources, subresources
(binding, eviction, scale), access/token reviews, events.k8s.io views, CSRs, componentstatuses."""
