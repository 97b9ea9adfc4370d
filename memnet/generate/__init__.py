"""bAbI-style task generator (being written)."""
