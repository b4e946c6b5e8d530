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

Beside the count, every Company stores the ids of its agencies, :data:`AGENCY_IDS`. After a batched write
(:meth:`AgencyCounts.apply`) the contract shapes are added, not recounted: every contract at the end of a new
``AWARDED`` or the start of a new ``AWARDED_TO`` / ``SUBCONTRACTED_TO`` is looked up once, and each of its vendors
gets the contract's agencies added to its list (``ADD_VENDOR_AGENCIES``; the count is the list's size). A path through
a new relationship passes through such a contract, so no agency is missed; one already listed is not added twice. The
cost is the batch's contracts, not the vendors' histories: recounting a vendor reads every contract it ever won, and
an award import reaches the same vendors batch after batch (at 1M award rows on Neo4j the recounts took 17% of the
import, growing with every batch). The rarer product shapes, a Company whose properties are replaced (a curated load
over a stored one: its list and count are gone) and a Company without a list (written by an older statetech) are
recounted from the graph by ``RECOMPUTE_AGENCY_COUNTS`` in :mod:`statetech.graph.cypher`, the single definition of the
count, which also stores the list. The one-transaction load finds the vendors to recount before it writes
(:meth:`AgencyCounts.affected`, the same set) and recounts them in its transaction. An import merges properties and
keeps both fields; a new Company is created with 0 (and no list, as every vendor reached by none:
:data:`AGENCY_IDS`). A first load into an empty store (and the bulk-import
files) computes every list from the records in Python (:func:`agencies_from_records`), the same definition over the
same relationships. Writes made outside statetech are seen after ``statetech db refresh`` (:func:`refresh`), which
recounts every vendor and writes only the lists and counts that differ.
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


def agencies_from_records(nodes: Iterable[Any], relationships: Iterable[Any]) -> dict[str, list[str]]:
    """Every Company's agency ids (sorted) in a store holding exactly these records (a first load, the bulk files).

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
    found: dict[str, list[str]] = {}
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
        found[node.id] = sorted(agencies)
    return found


def counts_from_records(nodes: Iterable[Any], relationships: Iterable[Any]) -> dict[str, int]:
    """Every Company's agency count in a store holding exactly these records."""
    return {vendor: len(ids) for vendor, ids in agencies_from_records(nodes, relationships).items()}


class AgencyCounts:
    """The vendors a write run can affect, gathered from what it writes, and their upkeep (module docstring)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.vendors: set[str] = set()  # recounted: ends of new PROVIDES, replaced companies
        self.contracts: set[str] = set()  # ends of new AWARDED, starts of new AWARDED_TO / SUBCONTRACTED_TO
        self.sold_to: set[str] = set()  # ends of new AWARDED_TO / SUBCONTRACTED_TO (for affected())
        self.awarded: set[str] = set()  # ends of new AWARDED: their products' providers are recounted
        self.products: set[str] = set()  # ends of new FOR_PRODUCT / USES: their providers are recounted

    def __bool__(self) -> bool:
        return bool(self.vendors or self.contracts or self.products)

    def note_relationship(self, rel_type: str, from_id: str, to_id: str) -> None:
        """A new relationship (one whose properties are replaced keeps its type and ends, so changes no count)."""
        if rel_type in _DIRECT_TO:
            self.contracts.add(from_id)
            self.sold_to.add(to_id)
        elif rel_type == "PROVIDES":
            self.vendors.add(from_id)
        elif rel_type == "AWARDED":
            self.contracts.add(to_id)
            self.awarded.add(to_id)
        elif rel_type in ("FOR_PRODUCT", "USES"):
            self.products.add(to_id)

    def note_replaced(self, company_ids: Iterable[str]) -> None:
        """Companies whose properties a write replaces (and so loses their stored list and count)."""
        self.vendors.update(company_ids)

    def affected(self) -> set[str]:
        """Every vendor the noted relationships can reach, looked up through the store from the noted ends: the
        one-transaction load recounts them all, in its transaction.

        It asks before it writes, and still finds every vendor a path through the new relationships reaches: a
        vendor at the end of a new AWARDED_TO / SUBCONTRACTED_TO is taken from the relationship itself (the store
        does not hold it yet), and one reached through a new AWARDED, FOR_PRODUCT or USES is found from the contract
        or product at its end, whose own relationships to vendors are either stored or new (and so taken as above).
        """
        vendors = self.vendors | self.sold_to | self._recounted_products()
        if self.contracts:
            vendors |= self._lookup(cypher.CONTRACT_VENDORS, sorted(self.contracts))
        return vendors

    def _recounted_products(self) -> set[str]:
        products = set(self.products)
        if self.awarded:
            products |= self._lookup(cypher.CONTRACT_PRODUCTS, sorted(self.awarded))
        return self._lookup(cypher.PRODUCT_PROVIDERS, sorted(products)) if products else set()

    def _lookup(self, query: str, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            found.update(row["id"] for row in self.store.lookup(query, {"ids": ids[start:start + CHUNK]}))
        return found

    def apply(self) -> int:
        """After a batched write: recount the vendors the product shapes reach, the replaced ones and those without
        a list; add to every other vendor the agencies of its noted contracts. Returns how many counts changed."""
        recounting = self.vendors | self._recounted_products()
        additions: dict[str, set[str]] = {}
        contracts = sorted(self.contracts)
        for start in range(0, len(contracts), CHUNK):
            for row in self.store.lookup(cypher.CONTRACT_AGENCIES_AND_VENDORS, {"ids": contracts[start:start + CHUNK]}):
                # a vendor without a list (an older statetech's, or made by hand) is recounted instead
                recounting.update(v for v in row["unlisted"] if isinstance(v, str))
                agencies = [a for a in row["agencies"] if isinstance(a, str)]
                if agencies:
                    for vendor in row["vendors"]:
                        if isinstance(vendor, str):
                            additions.setdefault(vendor, set()).update(agencies)
        self.vendors, self.contracts, self.sold_to, self.awarded, self.products = set(), set(), set(), set(), set()
        rows = [{"id": vendor, "agencies": sorted(agencies)} for vendor, agencies in sorted(additions.items())
                if vendor not in recounting]
        changed = 0
        for start in range(0, len(rows), CHUNK):
            result = self.store.set_properties(cypher.ADD_VENDOR_AGENCIES, {"rows": rows[start:start + CHUNK]})
            changed += result.rows[0]["changed"] if result.rows else 0
        return changed + recount(self.store, recounting)


def recount(store: GraphStore, vendor_ids: Iterable[str], chunk: int = CHUNK) -> int:
    """Recount these vendors from the graph and store the lists and counts that differ; returns how many vendors
    were written."""
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
