"""kernel/geo."""
