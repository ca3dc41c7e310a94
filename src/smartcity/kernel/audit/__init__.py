"""kernel/audit."""
