"""Applications. Each is a package with the same anatomy (see docs/architecture.md)."""
