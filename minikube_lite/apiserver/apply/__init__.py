"""Writes that merge: PATCH in its four flavours, server-side apply, managedFields and the
field-set algebra (``fieldpath``, ``typed``) they are built from."""
