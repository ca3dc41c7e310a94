"""kernel/context."""
