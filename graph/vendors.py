"""Each vendor's agency count, kept at write time so agencies/shared-vendors does not walk the whole graph.

agencies/shared-vendors lists the companies that the most distinct agencies reach, through three path shapes:
an agency AWARDED a contract AWARDED_TO or SUBCONTRACTED_TO the company; an agency AWARDED a contract FOR_PRODUCT a
product the company PROVIDES; an agency USES a product the company PROVIDES. Gathering that set for every company
took 14 s embedded and 18-24 s on Neo4j at 1M nodes / 3M relationships, and no read-time form came near 250 ms. So
every Company stores the size of its set, :data:`AGENCY_COUNT` (0 when none), and the query sorts on that.

What keeps it exact: statetech only adds relationships (a re-pointed contract is a new relationship; replacing one
keeps its type and ends), so a write can raise the count of exactly the vendors its new relationships lead to:

* ``AWARDED_TO`` / ``SUBCONTRACTED_TO`` k->v, ``PROVIDES`` v->p: v;
* ``AWARDED`` a->k: the vendors of k and the providers of k's ``FOR_PRODUCT`` products;
* ``FOR_PRODUCT`` k->p, ``USES`` a->p: the providers of p.

Those vendors are found after the write (:meth:`AgencyCounts.apply`; before it for the one-transaction load, which
finds the same set, see :meth:`AgencyCounts.affected`) and each is recounted from the graph by one
statement, ``RECOMPUTE_AGENCY_COUNTS`` in :mod:`statetech.graph.cypher`, the single definition of the count. A
Company whose properties are replaced (a curated load over a stored one) loses its stored count and is recounted
too; an import merges properties and keeps it; a new Company is created with 0. A first load into an empty store (and
the bulk-import files) computes every count from the records in Python (:func:`counts_from_records`), the same
definition over the same relationships. Writes made outside statetech are seen after ``statetech db refresh``
(:func:`refresh`), which recounts every vendor and writes only the counts that differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from statetech.graph import cypher

if TYPE_CHECKING:
    from statetech.graph.store import GraphStore

VENDOR = "Company"
CHUNK = 10_000
# the relationship types the count follows; any other type cannot change one
_DIRECT_TO = frozenset({"AWARDED_TO", "SUBCONTRACTED_TO"})
COUNTED_TYPES = frozenset({*_DIRECT_TO, "AWARDED", "FOR_PRODUCT", "USES", "PROVIDES"})


def counts_from_records(nodes: Iterable[Any], relationships: Iterable[Any]) -> dict[str, int]:
    """Every Company's agency count in a store holding exactly these records (a first load, the bulk files).

    The relationship types imply the kinds of their ends (the model allows AWARDED only from an Agency to a
    Contract, and so on; every write path refuses other ends), so the types alone select the three path shapes.
    """
    awarded_by: dict[str, set[str]] = {}  # contract -> agencies
    vendor_contracts: dict[str, set[str]] = {}  # company -> contracts awarded or subcontracted to it
    provided: dict[str, set[str]] = {}  # company -> products
    bought_by: dict[str, set[str]] = {}  # product -> contracts for it
    used_by: dict[str, set[str]] = {}  # product -> agencies
    for rel in relationships:
        rel_type = rel.type
        if rel_type not in COUNTED_TYPES:
            continue
        if rel_type == "AWARDED":
            awarded_by.setdefault(rel.to_id, set()).add(rel.from_id)
        elif rel_type in _DIRECT_TO:
            vendor_contracts.setdefault(rel.to_id, set()).add(rel.from_id)
        elif rel_type == "PROVIDES":
            provided.setdefault(rel.from_id, set()).add(rel.to_id)
        elif rel_type == "FOR_PRODUCT":
            bought_by.setdefault(rel.to_id, set()).add(rel.from_id)
        else:  # USES
            used_by.setdefault(rel.to_id, set()).add(rel.from_id)
    counts: dict[str, int] = {}
    empty: set[str] = set()
    for node in nodes:
        if node.kind != VENDOR:
            continue
        agencies: set[str] = set()
        for contract in vendor_contracts.get(node.id, empty):
            agencies |= awarded_by.get(contract, empty)
        for product in provided.get(node.id, empty):
            agencies |= used_by.get(product, empty)
            for contract in bought_by.get(product, empty):
                agencies |= awarded_by.get(contract, empty)
        counts[node.id] = len(agencies)
    return counts


class AgencyCounts:
    """The vendors a write run can affect, gathered from what it writes, and their recount (module docstring)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.vendors: set[str] = set()
        self.contracts: set[str] = set()  # ends of new AWARDED: their vendors and their products' providers
        self.products: set[str] = set()  # ends of new FOR_PRODUCT / USES: their providers

    def __bool__(self) -> bool:
        return bool(self.vendors or self.contracts or self.products)

    def note_relationship(self, rel_type: str, from_id: str, to_id: str) -> None:
        """A new relationship (one whose properties are replaced keeps its type and ends, so changes no count)."""
        if rel_type in _DIRECT_TO:
            self.vendors.add(to_id)
        elif rel_type == "PROVIDES":
            self.vendors.add(from_id)
        elif rel_type == "AWARDED":
            self.contracts.add(to_id)
        elif rel_type in ("FOR_PRODUCT", "USES"):
            self.products.add(to_id)

    def note_replaced(self, company_ids: Iterable[str]) -> None:
        """Companies whose properties a write replaces (and so loses their stored count)."""
        self.vendors.update(company_ids)

    def affected(self) -> set[str]:
        """The vendor ids to recount, looking through the store from the noted ends.

        The one-transaction load asks before it writes, and gets the same set: every relationship it adds notes the
        vendors or products at its own end, so a path through several of its relationships is already noted at the
        far end (an AWARDED to a contract whose AWARDED_TO comes in the same load: that AWARDED_TO noted its vendor).
        """
        vendors = set(self.vendors)
        products = set(self.products)
        if self.contracts:
            contracts = sorted(self.contracts)
            vendors |= self._lookup(cypher.CONTRACT_VENDORS, contracts)
            products |= self._lookup(cypher.CONTRACT_PRODUCTS, contracts)
        if products:
            vendors |= self._lookup(cypher.PRODUCT_PROVIDERS, sorted(products))
        return vendors

    def _lookup(self, query: str, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            found.update(row["id"] for row in self.store.lookup(query, {"ids": ids[start:start + CHUNK]}))
        return found

    def apply(self) -> int:
        """After a write: recount the affected vendors; returns how many counts changed."""
        changed = recount(self.store, self.affected())
        self.vendors, self.contracts, self.products = set(), set(), set()
        return changed


def recount(store: GraphStore, vendor_ids: Iterable[str], chunk: int = CHUNK) -> int:
    """Recount these vendors from the graph and store the counts that differ; returns how many changed."""
    ids = sorted(i for i in set(vendor_ids) if isinstance(i, str))
    changed = 0
    for start in range(0, len(ids), chunk):
        result = store.set_properties(cypher.RECOMPUTE_AGENCY_COUNTS, {"ids": ids[start:start + chunk]})
        changed += result.rows[0]["changed"] if result.rows else 0
    return changed


def refresh(store: GraphStore, chunk: int = CHUNK) -> tuple[int, int]:
    """Recount every vendor (``statetech db refresh``); returns (vendors read, counts changed)."""
    ids = [row["id"] for row in store.lookup(cypher.COMPANY_IDS, {})]
    return len(ids), recount(store, ids, chunk)
