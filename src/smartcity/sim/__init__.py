"""The synthetic city and the live scenario runner."""
