"""kernel/identity."""
