"""Input formats: each reader returns the typed tables of the standard layout (contract §3)."""
