"""The `duban` command."""
