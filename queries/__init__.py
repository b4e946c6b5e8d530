"""Stored Cypher queries, one per .cypher file; subfolders are namespaces."""
