"""Readers that turn files (curated YAML, public datasets) into validated model records."""
