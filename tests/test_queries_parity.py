"""Every stored query gives the same rows on Neo4j and on the embedded store, and the right rows.

The same records are loaded into both stores: the curated test fixtures (small.yaml + rich.yaml) and, when they
validate, the shipped seeds. Each query is then swept over every entity its parameters accept (up to a cap), each
option and each choice, and the two stores' rows are compared exactly (floats within a tolerance, types strict).
Expected-result tests pin the answers on the fixtures, so "both wrong the same way" fails too.
"""

from __future__ import annotations

import math
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from statetech.graph.api import Graph, shipped_seeds_path
from statetech.graph.catalog import Catalog, StoredQuery
from statetech.graph.model import NODE_KINDS
from statetech.graph.store import GrafeoStore
from statetech.loaders.curated import load_files, read_curated

FIXTURES = Path(__file__).parent / "fixtures" / "curated"
FIXTURE_FILES = [FIXTURES / "small.yaml", FIXTURES / "rich.yaml"]
CATALOG = Catalog.load()
# Per query and dataset, the sweep runs at most this many entity values per parameter.
MAX_ENTITIES_PER_PARAM = 40

# --- comparison -------------------------------------------------------------------------------------------------


def same(a: Any, b: Any, where: str = "") -> str | None:
    """None when equal (floats within a relative 1e-9), else a description of the first difference."""
    if isinstance(a, float) or isinstance(b, float):
        if type(a) is not type(b):
            return f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
        return None if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else f"{where}: {a!r} != {b!r}"
    if type(a) is not type(b):
        return f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            diff = same(a[key], b[key], f"{where}.{key}")
            if diff:
                return diff
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items\n  {a!r}\n  {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = same(x, y, f"{where}[{i}]")
            if diff:
                return diff
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


def test_comparison_is_strict():
    assert same([{"a": 1.0}], [{"a": 1.0 + 1e-12}]) is None
    assert same([{"a": 1.0}], [{"a": 1.1}]) is not None
    assert same([{"a": 1}], [{"a": 1.0}]) is not None
    assert same([{"a": True}], [{"a": 1}]) is not None
    assert same([{"a": ["x", "y"]}], [{"a": ["y", "x"]}]) is not None
    assert same([{"a": 1}, {"a": 2}], [{"a": 2}, {"a": 1}]) is not None
    assert same([{"a": None}], [{"a": 0}]) is not None


# --- data on both stores ----------------------------------------------------------------------------------------


class Pair:
    """The same records on both stores, and what the sweep needs to know about them.

    Both datasets share the one Neo4j server, so each pair reloads Neo4j when the other dataset was loaded last.
    """

    _neo4j_holds: str | None = None

    def __init__(self, label: str, embedded: Graph, neo4j: Graph, load) -> None:
        self.label = label
        self.embedded = embedded
        self._neo4j = neo4j
        self._load = load
        rows = embedded.query(
            "MATCH (n:Entity) OPTIONAL MATCH (n)-[r]-() WITH n, count(r) AS degree "
            "RETURN n.id AS id, n.kind AS kind, degree ORDER BY degree DESC, id").rows
        self.by_kind: dict[str, list[str]] = {k: [] for k in NODE_KINDS}
        for row in rows:
            self.by_kind[row["kind"]].append(row["id"])
        self.sources = [r["id"] for r in embedded.query("MATCH (s:Source) RETURN s.id AS id ORDER BY id").rows]
        self.urls = [r["url"] for r in embedded.query("MATCH (s:Source) RETURN s.url AS url ORDER BY url").rows]

    @property
    def neo4j(self) -> Graph:
        if Pair._neo4j_holds != self.label:
            self._neo4j.store.clear()
            self._load(self._neo4j)
            Pair._neo4j_holds = self.label
        return self._neo4j

    def entities(self, kinds: tuple[str, ...]) -> list[str]:
        kinds = kinds or tuple(NODE_KINDS)
        merged = [i for k in kinds for i in self.by_kind[k]]
        return merged[:MAX_ENTITIES_PER_PARAM]

    def run_both(self, name: str, params: dict[str, Any]):
        return CATALOG.run(self.embedded, name, params), CATALOG.run(self.neo4j, name, params)

    def run_unpacked(self, name: str, params: dict[str, Any]):
        """The canonical text as written, on Neo4j: what the packed form must reproduce row for row."""
        query, bound = CATALOG.bind(self.neo4j, name, params)
        return self.neo4j.query(query.body, bound)

    def close(self) -> None:
        if Pair._neo4j_holds == self.label:
            self._neo4j.store.clear()
            Pair._neo4j_holds = None


# Curated files cannot cite a missing source (validation refuses them), but a hand edit in Neo4j Browser can: these
# edits give records/unsourced something to find.
BROKEN_PROVENANCE = (
    "MATCH (n:Entity {id: 'person:example-walker'}) "
    "SET n.sources = n.sources + ['source:example-never-loaded', 'source:example-also-missing']",
    "MATCH (n:Entity {id: 'agency:example-dept'}) SET n.sources = []",
    "MATCH (:Entity {id: 'agency:example-office'})-[r:PART_OF]->() REMOVE r.sources",
    # an edge drawn by hand, without the from/to properties statetech stores: directions must come from the graph
    "MATCH (a:Entity {id: 'agency:example-city'}) MATCH (b:Entity {id: 'agency:example-state-police'}) "
    "CREATE (a)-[:SHARES_DATA_WITH {id: 'rel:example-hand-made', confidence: 'reported', "
    "sources: ['source:example-20190601-register']}]->(b)",
)


def _loader(paths, edits=()):
    def load(graph: Graph) -> None:
        load_files(graph, paths)
        for statement in edits:
            graph.query(statement, write=True)
        if edits:
            # edits made outside statetech reach the provenance fields records/* read through a refresh
            graph.refresh_provenance()
    return load


def _embedded(tmp_path_factory, label: str, load) -> Graph:
    graph = Graph(GrafeoStore(tmp_path_factory.mktemp(label) / "store.grafeo"))
    load(graph)
    return graph


def _make_pair(label: str, embedded: Graph, neo4j_store, load) -> Pair:
    pair = Pair(label, embedded, Graph(neo4j_store), load)
    assert pair.neo4j.stats().as_dict() == embedded.stats().as_dict()
    return pair


LOAD_FIXTURES = _loader(FIXTURE_FILES, BROKEN_PROVENANCE)


@pytest.fixture(scope="module")
def fixture_embedded(tmp_path_factory):
    graph = _embedded(tmp_path_factory, "fixtures", LOAD_FIXTURES)
    yield graph
    graph.close()


@pytest.fixture(scope="module")
def fixture_pair(fixture_embedded, neo4j_store):
    pair = _make_pair("fixtures", fixture_embedded, neo4j_store, LOAD_FIXTURES)
    yield pair
    pair.close()


@pytest.fixture(scope="module")
def seeds_pair(tmp_path_factory, neo4j_store):
    seeds = shipped_seeds_path()
    bundle = read_curated([seeds])
    if bundle.problems:
        # Invalid seeds are a failure, never a skip: a skip here would hide every parity check on the shipped data.
        pytest.fail(f"the shipped seeds do not validate ({len(bundle.problems)} problems, first: "
                    f"{bundle.problems[0]}); run 'statetech validate seeds/'")
    load = _loader([seeds])
    pair = _make_pair("seeds", _embedded(tmp_path_factory, "seeds", load), neo4j_store, load)
    yield pair
    pair.close()
    pair.embedded.close()


# --- the sweep --------------------------------------------------------------------------------------------------


def sweep(query: StoredQuery, pair: Pair) -> list[dict[str, Any]]:
    """Parameter sets covering each entity a parameter accepts, each option and each choice."""
    cases: list[dict[str, Any]] = []
    required = [p for p in query.params.values() if p.required]
    optional = [p for p in query.params.values() if not p.required]

    def values(param) -> list[Any]:
        if param.type == "entity":
            return pair.entities(param.kinds)
        if param.name == "source":
            return pair.sources + pair.urls[:3] + ["source:not-there"]
        if param.name == "text":
            return ["example", "ice", "Microsoft", "zzz-nothing", "E"]
        if param.choices:
            return list(param.choices)
        if param.type == "date":
            return ["2019", "2022-09", "2023-01-01", "2025-03-05", "2026"]
        raise AssertionError(f"{query.name}: the sweep has no values for required parameter {param.name!r}")

    if not required:
        cases.append({})
    elif len(required) == 1:
        cases.extend({required[0].name: v} for v in values(required[0]))
    else:
        firsts, seconds = values(required[0]), values(required[1])
        for i, a in enumerate(firsts):
            for b in islice(seconds, i % 5, None, 7):
                cases.append({required[0].name: a, required[1].name: b})
    base = dict(cases[0]) if cases else {}
    for param in optional:
        for value in _option_values(param, pair):
            cases.append({**base, param.name: value})
    return cases


def _option_values(param, pair: Pair) -> list[Any]:
    if param.choices:
        return list(param.choices)
    if param.type == "bool":
        return [not param.default] if param.default is not None else [True, False]
    if param.type == "int":
        return [1, 3]
    if param.type == "date":
        return ["2019", "2022-06", "2024-01-01"]
    if param.type == "entity":
        return pair.entities(param.kinds)[:6]
    return []


def _check_parity(pair: Pair, query: StoredQuery) -> int:
    cases = sweep(query, pair)
    assert cases, f"{query.name}: no parameter sets"
    rows_seen = 0
    for params in cases:
        embedded, neo4j = pair.run_both(query.name, params)
        assert embedded.columns == query.returns, f"{query.name}: embedded columns {embedded.columns}"
        assert neo4j.columns == query.returns, f"{query.name}: Neo4j columns {neo4j.columns}"
        diff = same(embedded.rows, neo4j.rows, "rows")
        assert diff is None, f"{query.name} {params}: embedded and Neo4j differ: {diff}"
        # Neo4j ran the packed form (statetech.graph.cypher.packed_query); the text as written must agree with it
        plain = pair.run_unpacked(query.name, params)
        assert plain.columns == neo4j.columns, f"{query.name}: packed columns {neo4j.columns} != {plain.columns}"
        diff = same(plain.rows, neo4j.rows, "rows")
        assert diff is None, f"{query.name} {params}: packed and unpacked forms differ on Neo4j: {diff}"
        rows_seen += len(embedded.rows)
    return rows_seen


def test_every_stored_query_is_packed_for_neo4j():
    """Each shipped read query has the shape the rewrite handles, so the parity sweep above compares every packed
    form with its text as written; a new query the rewrite leaves alone would still run, only slower to read."""
    unpacked = [q.name for q in CATALOG if not q.writes and q.packed is None]
    assert unpacked == []
    for query in CATALOG:
        assert query.packed.columns == tuple(query.returns), query.name


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted(CATALOG.queries))
def test_same_rows_on_both_stores_fixtures(fixture_pair, name):
    rows = _check_parity(fixture_pair, CATALOG.get(name))
    # The fixtures are built so every query has something to say; an always-empty answer proves nothing.
    assert rows > 0, f"{name} returned no rows for any parameter set on the fixtures"


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted(CATALOG.queries))
def test_same_rows_on_both_stores_seeds(seeds_pair, name):
    _check_parity(seeds_pair, CATALOG.get(name))


def test_variants_are_used_by_the_embedded_store():
    """Each engine variant is a different text: proving parity above exercised both forms of those queries."""
    for query in CATALOG:
        for backend, text in query.variants.items():
            assert backend == "embedded"
            assert text != query.body, f"{query.name}: variant identical to the canonical query; delete it"


# --- pinned answers on the fixtures -------------------------------------------------------------------------------
# (query, params, columns checked, expected rows as tuples of those columns). Worked out from rich.yaml by hand: the
# IDV has two task orders, one placed directly by the field office (a component of the bureau), so the bureau's
# totals count it once; and so on.

EXPECTED = [
    ("contracts/by-agency", {"agency": "agency:example-bureau"},
     ["contract", "awarded_by", "vendors", "products", "obligated_usd"], [
         ("contract:example-idv-1", "agency:example-bureau", ["company:example-integrator"], [], 3000000.0),
         ("contract:example-award-1", "agency:example-bureau", ["company:example-cloud"], ["product:example-platform"],
          1500000.5),
         ("contract:example-to-1", "agency:example-office", ["company:example-integrator"], [], 1000000.0),
         ("contract:example-analytics-2", "agency:example-bureau", ["company:example-analytics"],
          ["product:example-case-manager"], 800000.0),
     ]),
    # by alias, own awards only, since a date
    ("contracts/by-agency", {"agency": "EXB", "include_sub_agencies": "false", "since": "2023"},
     ["contract", "awarded_by"], [
         ("contract:example-award-1", "agency:example-bureau"),
         ("contract:example-analytics-2", "agency:example-bureau"),
     ]),
    ("contracts/by-agency", {"agency": "agency:example-city", "limit": "1"}, ["contract", "obligated_usd"], [
        ("contract:example-analytics-bpa", 250000.25),
    ]),
    # the IDV's own obligations (3,000,000) count beside its orders' (1,000,000 + 2,000,000): none is lost
    ("agencies/vendor-totals", {"agency": "agency:example-bureau"},
     ["vendor", "contracts", "task_orders", "obligated_usd", "potential_usd", "unvalued", "contract_ids"], [
         ("company:example-integrator", 3, 2, 6000000.0, 25000000.0, 0,
          ["contract:example-idv-1", "contract:example-to-1", "contract:example-to-2"]),
         ("company:example-cloud", 1, 0, 1500000.5, 9000000.0, 0, ["contract:example-award-1"]),
         ("company:example-analytics", 1, 0, 800000.0, 1200000.0, 0, ["contract:example-analytics-2"]),
     ]),
    # the office placed task order 1 itself: there it is a top-level award, its own ceiling counts
    ("agencies/vendor-totals", {"agency": "agency:example-office"},
     ["vendor", "contracts", "task_orders", "obligated_usd", "potential_usd"], [
         ("company:example-integrator", 1, 0, 1000000.0, 4000000.0),
     ]),
    ("agencies/vendor-totals", {"agency": "agency:example-city"},
     ["vendor", "obligated_usd", "potential_usd", "unvalued"], [
         # amounts no contract records are unknown (None), never 0.0
         ("company:example-analytics", 250000.25, None, 0),
         ("company:example-broker", None, None, 1),
     ]),
    ("companies/agencies", {"company": "company:example-cloud"}, ["agency", "vendor", "via", "record", "date"], [
        ("agency:example-bureau", "company:example-cloud", "contract", "contract:example-award-1", "2024-01-02"),
        ("agency:example-bureau", "company:example-cloud", "uses its product", "product:example-platform", "2024-01"),
        ("agency:example-state-police", "company:example-cloud-gov", "contract", "contract:example-gov-cloud-1", "2020"),
        ("agency:example-state-police", "company:example-cloud-gov", "uses its product", "product:example-gov-cloud",
         "2021"),
    ]),
    ("agencies/products", {"agency": "agency:example-bureau"},
     ["product", "vendors", "agency", "via", "data_volume_tb", "as_of"], [
         ("product:example-case-manager", ["company:example-analytics"], "agency:example-bureau", "contract", None,
          "2023-07-01"),
         ("product:example-case-manager", ["company:example-analytics"], "agency:example-office", "uses", 12.5,
          "2023-12"),
         ("product:example-platform", ["company:example-cloud"], "agency:example-bureau", "contract", None,
          "2024-01-02"),
         ("product:example-platform", ["company:example-cloud"], "agency:example-bureau", "uses", 400.0, "2024-01"),
     ]),
    ("actions/against", {"target": "company:example-cloud"}, ["action", "start_date", "link", "via"], [
        ("action:example-walkout", "2019-11-05", "ORGANIZED_AT", "company:example-cloud"),
        ("action:example-walkout", "2019-11-05", "TARGETS", "contract:example-gov-cloud-1"),
        ("action:example-letter", "2024-03", "ORGANIZED_AT", "company:example-cloud"),
        ("action:example-letter", "2024-03", "TARGETS", "contract:example-award-1"),
        ("action:example-resignation", "2025-01-20", "TARGETS", "product:example-gov-cloud"),
    ]),
    ("actions/against", {"target": "company:example-cloud", "since": "2020", "until": "2024-12"},
     ["action", "link", "via"], [
         ("action:example-letter", "ORGANIZED_AT", "company:example-cloud"),
         ("action:example-letter", "TARGETS", "contract:example-award-1"),
     ]),
    ("actions/by-year", {}, ["year", "action_type", "actions", "known_participants", "action_ids"], [
        ("2019", "walkout", 1, 300, ["action:example-walkout"]),
        ("2022", "petition", 1, 45, ["action:example-petition"]),
        ("2024", "open_letter", 1, 120, ["action:example-letter"]),
        ("2025", "resignation", 1, 1, ["action:example-resignation"]),
    ]),
    ("actions/by-year", {"company": "company:example-analytics"}, ["year", "action_ids"], [
        ("2022", ["action:example-petition"]),
    ]),
    # organised at the company; aimed at a subsidiary's contract; aimed at a subsidiary's product
    ("actions/by-year", {"company": "company:example-cloud"}, ["year", "action_ids"], [
        ("2019", ["action:example-walkout"]),
        ("2024", ["action:example-letter"]),
        ("2025", ["action:example-resignation"]),
    ]),
    ("actions/responses", {"company": "company:example-cloud"}, ["action", "responder", "response_date"], [
        ("action:example-walkout", "person:example-exec", "2019-11-06"),
        ("action:example-letter", "company:example-cloud", None),
    ]),
    ("policies/governing", {"entity": "company:example-analytics"}, ["policy", "applies", "via", "cited_by"], [
        ("policy:example-hr-policy", "governs it", "company:example-analytics", ["action:example-petition"]),
        ("policy:example-hr-policy", "issued by it", "company:example-analytics", ["action:example-petition"]),
        ("policy:example-pia", "governs its contract", "contract:example-analytics-2", []),
        ("policy:example-pia", "governs its product", "product:example-case-manager", []),
    ]),
    ("policies/governing", {"entity": "agency:example-bureau"}, ["policy", "applies", "via", "cited_by"], [
        ("policy:example-ai-principles", "governs its product", "product:example-platform",
         ["action:example-letter", "action:example-walkout"]),
        ("policy:example-pia", "governs its contract", "contract:example-analytics-2", []),
        ("policy:example-pia", "issued by it", "agency:example-bureau", []),
    ]),
    ("policies/citations", {"policy": "policy:example-ai-principles"}, ["action", "targets"], [
        ("action:example-walkout", ["contract:example-gov-cloud-1"]),
        ("action:example-letter", ["contract:example-award-1"]),
    ]),
    ("people/revolving-door", {}, ["person", "agency", "company", "direction", "vendor_contracts"], [
        ("person:example-engineer", "agency:example-city", "company:example-analytics", "company to agency",
         ["contract:example-analytics-bpa"]),
        ("person:example-official", "agency:example-bureau", "company:example-integrator", "agency to company",
         ["contract:example-idv-1", "contract:example-to-1"]),
    ]),
    ("people/revolving-door", {"agency": "Example City Police", "vendors_only": "true"}, ["person"], [
        ("person:example-engineer",),
    ]),
    ("paths/between", {"from": "Example Department", "to": "person:example-organiser"},
     ["hops", "entities", "relationships", "hop_sources"], [
         (4, ["agency:example-dept", "agency:example-bureau", "contract:example-award-1", "action:example-letter",
              "person:example-organiser"],
          ["<-[PART_OF]-", "-[AWARDED]->", "<-[TARGETS]-", "<-[PARTICIPATED_IN]-"],
          [["source:example-20240102-award"], ["source:example-20240102-award"], ["source:example-20240301-letter"],
           ["source:example-20240301-letter"]]),
         (4, ["agency:example-dept", "agency:example-bureau", "contract:example-award-1", "company:example-cloud",
              "person:example-organiser"],
          ["<-[PART_OF]-", "-[AWARDED]->", "-[AWARDED_TO]->", "<-[WORKS_FOR]-"],
          [["source:example-20240102-award"], ["source:example-20240102-award"], ["source:example-20240102-award"],
           ["source:example-20240301-letter"]]),
         (4, ["agency:example-dept", "agency:example-bureau", "product:example-platform", "company:example-cloud",
              "person:example-organiser"],
          ["<-[PART_OF]-", "-[USES]->", "<-[PROVIDES]-", "<-[WORKS_FOR]-"],
          [["source:example-20240102-award"], ["source:example-20240102-award"], ["source:example-20240102-award"],
           ["source:example-20240301-letter"]]),
     ]),
    ("sources/supports", {"source": "https://example.org/letter"}, ["record", "id"], [
        ("entity", "action:example-letter"),
        ("entity", "person:example-organiser"),
        ("entity", "policy:example-ai-principles"),
        ("relationship", "rel:action:example-letter>CITES>policy:example-ai-principles"),
        ("relationship", "rel:action:example-letter>ORGANIZED_AT>company:example-cloud"),
        ("relationship", "rel:action:example-letter>TARGETS>contract:example-award-1"),
        ("relationship", "rel:company:example-cloud>ISSUED>policy:example-ai-principles"),
        ("relationship", "rel:company:example-cloud>RESPONDED_TO>action:example-letter"),
        ("relationship", "rel:person:example-organiser>PARTICIPATED_IN>action:example-letter"),
        ("relationship", "rel:person:example-organiser>WORKS_FOR>company:example-cloud"),
        ("relationship", "rel:policy:example-ai-principles>GOVERNS>product:example-platform"),
    ]),
    ("records/alleged", {"record": "entity"}, ["record", "id"], [
        ("entity", "action:example-resignation"),
        ("entity", "company:example-broker"),
        ("entity", "contract:example-pilot"),
        ("entity", "policy:example-ai-principles"),
        ("entity", "product:example-plates"),
    ]),
    ("records/newest", {"limit": "4"}, ["newest_source_date", "id"], [
        ("2025-03", "action:example-resignation"),
        ("2025-03", "company:example-broker"),
        ("2025-03", "contract:example-pilot"),
        ("2025-03", "product:example-plates"),
    ]),
    # curation dates in rich.yaml: example-to-2 added 2022-09-20 and updated 2023-03-01, the office's PART_OF edge
    # added 2022-09-20, the pilot and the resignation added 2025-03-05; a month or year means up to its end
    ("records/known-on", {"date": "2022-09"}, ["added", "updated", "record", "id"], [
        ("2022-09-20", "2023-03-01", "entity", "contract:example-to-2"),
        ("2022-09-20", None, "relationship", "rel:agency:example-office>PART_OF>agency:example-bureau"),
    ]),
    ("records/known-on", {"date": "2022-09-19"}, ["id"], []),
    ("records/known-on", {"date": "2025-03-05", "record": "entity"}, ["added", "id"], [
        ("2022-09-20", "contract:example-to-2"),
        ("2025-03-05", "action:example-resignation"),
        ("2025-03-05", "contract:example-pilot"),
    ]),
    ("records/new-since", {"since": "2023-01-01"}, ["changed", "change", "id"], [
        ("2025-03-05", "added", "action:example-resignation"),
        ("2025-03-05", "added", "contract:example-pilot"),
        ("2023-03-01", "updated", "contract:example-to-2"),
    ]),
    ("records/new-since", {"since": "2023"}, ["changed", "change", "id"], [
        ("2025-03-05", "added", "action:example-resignation"),
        ("2025-03-05", "added", "contract:example-pilot"),
    ]),
    ("records/new-since", {"since": "2022-09-19", "record": "relationship"}, ["change", "id"], [
        ("added", "rel:agency:example-office>PART_OF>agency:example-bureau"),
    ]),
    ("records/unsourced", {}, ["record", "id", "kind", "missing_sources"], [
        ("entity", "agency:example-dept", "Agency", ["(no source cited)"]),
        ("entity", "person:example-walker", "Person", ["source:example-also-missing", "source:example-never-loaded"]),
        ("relationship", "rel:agency:example-office>PART_OF>agency:example-bureau", "PART_OF", ["(no source cited)"]),
    ]),
    ("entities/timeline", {"entity": "person:example-official"}, ["date", "event", "record"], [
        ("2015-01", "WORKS_FOR from", "rel:example-official-at-bureau"),
        ("2021-06", "WORKS_FOR until", "rel:example-official-at-bureau"),
        ("2021-09", "WORKS_FOR from", "rel:example-official-at-integrator"),
    ]),
    ("entities/neighbourhood", {"entity": "company:example-cloud-gov"}, ["relationship", "direction", "neighbour"], [
        ("AWARDED_TO", "in", "contract:example-gov-cloud-1"),
        ("PROVIDES", "out", "product:example-gov-cloud"),
        ("SUBSIDIARY_OF", "out", "company:example-cloud"),
        ("WORKS_FOR", "in", "person:example-exec"),
    ]),
    # the hand-made edge (no r.from) points the right way too
    ("entities/neighbourhood", {"entity": "agency:example-state-police"}, ["relationship", "direction", "neighbour"], [
        ("AWARDED", "out", "contract:example-gov-cloud-1"),
        ("GOVERNS", "in", "policy:example-data-law"),
        ("SHARES_DATA_WITH", "in", "agency:example-city"),
        ("SHARES_DATA_WITH", "out", "agency:example-bureau"),
        ("USES", "out", "product:example-gov-cloud"),
    ]),
    ("paths/between", {"from": "agency:example-state-police", "to": "agency:example-city"},
     ["hops", "entities", "relationships"], [
         (1, ["agency:example-state-police", "agency:example-city"], ["<-[SHARES_DATA_WITH]-"]),
     ]),
    ("entities/search", {"text": "EXB"}, ["id", "kind", "name", "aliases"], [
        ("agency:example-bureau", "Agency", "Example Bureau", ["EXB"]),
    ]),
    ("agencies/shared-vendors", {}, ["vendor", "agency_count", "agencies"], [
        ("company:example-analytics", 3, ["agency:example-bureau", "agency:example-city", "agency:example-office"]),
        ("company:example-integrator", 2, ["agency:example-bureau", "agency:example-office"]),
    ]),
    ("agencies/hierarchy", {"agency": "agency:example-bureau"}, ["agency", "relation", "depth", "chain"], [
        ("agency:example-office", "component", 1, ["agency:example-bureau", "agency:example-office"]),
        ("agency:example-dept", "parent", 1, ["agency:example-bureau", "agency:example-dept"]),
        ("agency:example-state-police", "receives data from", 1, ["agency:example-bureau", "agency:example-state-police"]),
    ]),
    ("companies/family", {"company": "company:example-cloud"}, ["company", "relation", "depth", "chain"], [
        ("company:example-cloud-gov", "subsidiary", 1, ["company:example-cloud", "company:example-cloud-gov"]),
    ]),
    ("contracts/task-orders", {"contract": "Example enterprise IDV"},
     ["task_order", "depth", "placed_by", "vendors", "obligated_usd"], [
         ("contract:example-to-1", 1, ["agency:example-office"], ["company:example-integrator"], 1000000.0),
         ("contract:example-to-2", 1, [], ["company:example-integrator"], 2000000.0),
     ]),
    ("contracts/largest", {"award_type": "task_order"}, ["contract", "obligated_usd"], [
        ("contract:example-to-2", 2000000.0),
        ("contract:example-to-1", 1000000.0),
    ]),
    ("contracts/by-vendor", {"company": "company:example-analytics"},
     ["contract", "vendor", "role", "agencies", "subcontract_usd"], [
         ("contract:example-idv-1", "company:example-analytics", "subcontractor", ["agency:example-bureau"], 300000.0),
         ("contract:example-analytics-2", "company:example-analytics", "prime", ["agency:example-bureau"], None),
         ("contract:example-analytics-bpa", "company:example-analytics", "prime", ["agency:example-city"], None),
     ]),
    ("products/users", {"product": "product:example-platform"},
     ["agency", "product", "runs_on_depth", "via", "record"], [
         ("agency:example-bureau", "product:example-case-manager", 2, "contract", "contract:example-analytics-2"),
         ("agency:example-bureau", "product:example-platform", 0, "contract", "contract:example-award-1"),
         ("agency:example-bureau", "product:example-platform", 0, "uses", "rel:example-bureau-uses-platform-2024"),
         ("agency:example-office", "product:example-case-manager", 2, "uses",
          "rel:agency:example-office>USES>product:example-case-manager"),
         ("agency:example-state-police", "product:example-gov-cloud", 1, "contract", "contract:example-gov-cloud-1"),
         ("agency:example-state-police", "product:example-gov-cloud", 1, "uses",
          "rel:agency:example-state-police>USES>product:example-gov-cloud"),
     ]),
]


def test_every_query_has_a_pinned_answer():
    assert sorted({name for name, *_ in EXPECTED}) == sorted(CATALOG.queries)


@pytest.mark.parametrize("backend_name", ["embedded", "neo4j"])
@pytest.mark.parametrize("name, params, columns, expected", EXPECTED,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(EXPECTED)])
def test_pinned_answers(request, backend_name, name, params, columns, expected):
    if backend_name == "embedded":
        graph = request.getfixturevalue("fixture_embedded")
    else:
        graph = request.getfixturevalue("fixture_pair").neo4j
    result = CATALOG.run(graph, name, params)
    got = [tuple(row[c] for c in columns) for row in result.rows]
    assert same(got, expected, "rows") is None, f"{name} {params} on {backend_name}:\n{got}"
