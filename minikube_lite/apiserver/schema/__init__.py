"""What a body must look like: the upstream 1.35 schemas, decode-time checks, defaulting,
CRD structural schemas and the built-in validation rules (``validation/``)."""
