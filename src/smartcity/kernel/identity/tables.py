"""Tables of the base registries."""
