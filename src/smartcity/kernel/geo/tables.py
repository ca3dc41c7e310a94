"""Tables of the geography."""
