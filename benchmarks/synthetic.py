"""A generated graph shaped like statetech's data, for benchmarks only (never loaded as facts).

Every name is synthetic ("Synthetic Agency 12"); the shape mimics the curated data: few agencies, many contracts,
vendors with products, employee actions and policies, all citing sources.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from statetech.graph.model import (
    Agency,
    Company,
    Contract,
    EmployeeAction,
    Person,
    Policy,
    Product,
    RecordSet,
    Relationship,
    Source,
    is_allowed,
)

# Share of nodes by kind (sums to 1).
MIX = (("Contract", 0.45), ("Company", 0.15), ("Person", 0.15), ("Product", 0.1), ("EmployeeAction", 0.08),
       ("Policy", 0.04), ("Agency", 0.03))
CLASSES = {"Agency": Agency, "Company": Company, "Contract": Contract, "EmployeeAction": EmployeeAction,
           "Policy": Policy, "Person": Person, "Product": Product}
PREFIX = {"Agency": "agency", "Company": "company", "Contract": "contract", "EmployeeAction": "action",
          "Policy": "policy", "Person": "person", "Product": "product"}
# Relationship patterns weighted roughly like the curated graph.
PATTERNS = (("Agency", "AWARDED", "Contract", 3), ("Contract", "AWARDED_TO", "Company", 3),
            ("Contract", "FOR_PRODUCT", "Product", 2), ("Company", "PROVIDES", "Product", 1),
            ("Agency", "USES", "Product", 1), ("EmployeeAction", "TARGETS", "Company", 1),
            ("Person", "PARTICIPATED_IN", "EmployeeAction", 1), ("Person", "WORKS_FOR", "Company", 1),
            ("Policy", "GOVERNS", "Company", 1), ("Contract", "CHILD_OF", "Contract", 1),
            ("Agency", "PART_OF", "Agency", 0.2))


def synthetic_records(n_nodes: int, n_relationships: int, seed: int = 7, n_sources: int = 1000) -> RecordSet:
    """A reproducible RecordSet of about ``n_nodes`` nodes and exactly ``n_relationships`` relationships."""
    rng = random.Random(seed)
    # Publication dates spread over 2010-2026 (records/newest sorts by them), from a generator of their own so the
    # rest of the graph is the same as before they were spread.
    dates = random.Random(seed + 1)
    sources = [Source(id=f"source:synthetic-{i}", url=f"https://example.org/synthetic/{i}",
                      title=f"Synthetic source {i}", publisher="Synthetic",
                      published=f"{dates.randint(2010, 2026)}-{dates.randint(1, 12):02d}-{dates.randint(1, 28):02d}")
               for i in range(n_sources)]
    ids: dict[str, list[str]] = {kind: [] for kind, _ in MIX}
    nodes = []
    for kind, share in MIX:
        count = max(2, int(n_nodes * share))
        cls = CLASSES[kind]
        for i in range(count):
            node_id = f"{PREFIX[kind]}:synthetic-{i}"
            extra = {}
            if kind == "Contract":
                extra = {"obligated_usd": float(rng.randint(1_000, 50_000_000)), "award_id": f"SYN{i:08d}",
                         "start_date": f"{rng.randint(2010, 2025)}-{rng.randint(1, 12):02d}-01"}
            nodes.append(cls(id=node_id, name=f"Synthetic {kind} {i}", sources=[sources[i % n_sources].id],
                             confidence=("confirmed", "reported", "alleged")[i % 3], **extra))
            ids[kind].append(node_id)
    weights = [w for *_, w in PATTERNS]
    rels = []
    for i in range(n_relationships):
        f, t, to, _ = rng.choices(PATTERNS, weights)[0]
        assert is_allowed(f, t, to)
        a, b = rng.choice(ids[f]), rng.choice(ids[to])
        rels.append(Relationship(id=f"rel:synthetic-{i}", **{"from": a, "to": b}, type=t,
                                 sources=[sources[i % n_sources].id], confidence="reported"))
    return RecordSet(sources=sources, nodes=nodes, relationships=rels)


def chunks(records: RecordSet, size: int) -> Iterator[RecordSet]:
    """Split a RecordSet so sources and nodes are written before the relationships that need them."""
    for start in range(0, len(records.sources), size):
        yield RecordSet(sources=records.sources[start:start + size])
    for start in range(0, len(records.nodes), size):
        yield RecordSet(nodes=records.nodes[start:start + size])
    for start in range(0, len(records.relationships), size):
        yield RecordSet(relationships=records.relationships[start:start + size])
