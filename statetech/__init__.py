"""statetech: a sourced knowledge graph of state agencies, technology companies, contracts, worker actions and policies."""

__version__ = "0.1.0"
