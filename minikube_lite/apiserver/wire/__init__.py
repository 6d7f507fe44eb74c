"""The HTTP face of the API server: routes, media types (JSON, YAML, protobuf), tables, watch,
discovery and OpenAPI documents. It turns requests into engine calls and engine results into bytes."""
