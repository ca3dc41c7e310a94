"""Smart city platform."""
