"""Package data: tables of facts derived from upstream (see scripts/)."""
