"""kernel/workflow."""
