"""kernel/notify."""
