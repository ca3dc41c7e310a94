"""Tables of the audit log."""
