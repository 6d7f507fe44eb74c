"""Admission: the mutating and validating plugins every write passes (the chain, and the
upstream plugins Priority, DefaultIngressClass and the storage ones)."""
