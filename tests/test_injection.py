"""Injection attempts through parameters change nothing and return nothing they should not, on both stores.

Values always travel as Cypher parameters, labels and relationship types only come from the model's allowlist, the
hop limit of a path is checked to be a small number, and canned queries run read-only. These tests push hostile
strings through every parameter of every stored query, through ``statetech cypher`` and ``statetech path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph import cypher
from statetech.graph.catalog import Catalog
from statetech.graph.errors import QueryError, StatetechError
from statetech.graph.model import checked_label, checked_rel_type
from statetech.loaders.curated import load_files

FIXTURES = Path(__file__).parent / "fixtures" / "curated"
CATALOG = Catalog.load()

PAYLOADS = [
    "' OR 1=1 //",
    "agency:example-bureau' OR '1'='1",
    "agency:example-bureau'}) MATCH (n) DETACH DELETE n //",
    "agency:example-bureau\"}) DETACH DELETE n RETURN 1 AS x //",
    "}) RETURN 1 UNION MATCH (n) RETURN n.id AS contract //",
    "agency:example-bureau\\' OR true //",
    "MATCH (n) DETACH DELETE n",
    "agency:example-bureau\nMATCH (n) DETACH DELETE n",
    "x` DETACH DELETE n //",
    "Agency) DETACH DELETE (n",
    ":Agency",
    "agency:example-bureau:Company",
    "(n:Entity)",
    "$agency",
    "{id: 'agency:example-bureau'}",
    "CALL db.labels() YIELD label RETURN label",
    "/* */ OR true",
    ".*",
    "%",
    "*",
]


def snapshot(graph) -> tuple:
    """Everything in the store, every property of every node, relationship and source."""
    whole = graph.whole_graph()
    nodes = {i: n.properties for i, n in whole.nodes.items()}
    edges = sorted((e.id, e.type, e.source, e.target, sorted(e.properties.items(), key=str)) for e in whole.edges)
    sources = graph.query("MATCH (s:Source) RETURN properties(s) AS p ORDER BY s.id").rows
    total = graph.query("MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS n, count(r) AS r").rows
    return nodes, edges, sources, total


@pytest.fixture
def loaded(graph):
    load_files(graph, [FIXTURES / "small.yaml", FIXTURES / "rich.yaml"])
    return graph


def _cases():
    for query in CATALOG:
        for param in query.params.values():
            if param.type in ("string", "entity", "date", "list") and not param.choices:
                yield query.name, param.name


@pytest.mark.parametrize("name, param", list(_cases()))
def test_hostile_values_in_stored_query_parameters(loaded, name, param):
    query = CATALOG.get(name)
    before = snapshot(loaded)
    for payload in PAYLOADS:
        params = {param: payload}
        # other required parameters get a harmless real value, so the hostile one is what the query sees
        for other in query.params.values():
            if other.required and other.name != param:
                params[other.name] = "agency:example-bureau" if other.type == "entity" else "x"
        try:
            result = CATALOG.run(loaded, name, params)
        except StatetechError as exc:
            # refused before running: no such entity, not a date, ... never a store syntax error
            assert "rejected the query" not in str(exc) and "syntax" not in str(exc).lower(), (payload, str(exc))
            continue
        assert result.rows == [], f"{name} with {param}={payload!r} returned {result.rows[:3]}"
    assert snapshot(loaded) == before


def test_hostile_values_reach_the_store_as_data_even_in_write_mode(loaded):
    before = snapshot(loaded)
    for payload in PAYLOADS:
        assert loaded.query("MATCH (a:Agency) WHERE a.id = $id OR a.name = $id RETURN a.id AS id",
                            {"id": payload}).rows == []
    assert snapshot(loaded) == before
    # written as a value, a payload is stored verbatim and touches nothing else
    for payload in PAYLOADS:
        rows = loaded.query("MATCH (a:Agency {id: 'agency:example-dept'}) SET a.notes = $text RETURN a.notes AS notes",
                            {"text": payload}, write=True).rows
        assert rows == [{"notes": payload}]
    after = snapshot(loaded)
    before[0]["agency:example-dept"]["notes"] = PAYLOADS[-1]
    assert after == before


def test_labels_types_and_hop_limits_only_from_the_allowlist():
    for bad in ("Agency) DETACH DELETE (n", "Agency:Entity", "agency", "Source`) DETACH DELETE (n", ""):
        with pytest.raises(ValueError):
            checked_label(bad)
        with pytest.raises(ValueError):
            cypher.upsert_nodes(bad)
    for bad in ("AWARDED]->() DETACH DELETE n //", "awarded", "AWARDED|USES", ""):
        with pytest.raises(ValueError):
            checked_rel_type(bad)
        with pytest.raises(ValueError):
            cypher.upsert_relationships(bad)
    for bad in ("6}]-(b)) DETACH DELETE a //", "6", 0, 11, -1, True, 2.0, None):
        with pytest.raises(ValueError):
            cypher.shortest_paths(bad)
    assert "[*..4]" in cypher.shortest_paths(4)


def test_path_refuses_hostile_references_and_hop_limits(loaded):
    before = snapshot(loaded)
    for payload in PAYLOADS:
        with pytest.raises(StatetechError):
            loaded.paths(payload, "agency:example-dept")
    for bad in ("6}]-(b)) DETACH DELETE a //", "6", 0, 11):
        with pytest.raises(QueryError) as info:
            loaded.paths("agency:example-bureau", "agency:example-dept", max_hops=bad)
        assert str(info.value) == f"max hops must be a whole number from 1 to 10, not {bad!r}"
    assert snapshot(loaded) == before


def test_choice_parameters_reject_label_syntax(loaded):
    for payload in ("Agency) DETACH DELETE (n", "Agency|Company", "Entity"):
        with pytest.raises(QueryError) as info:
            CATALOG.run(loaded, "entities/search", {"text": "example", "kind": payload})
        assert str(info.value).startswith("parameter 'kind' must be one of Agency, Company, Contract, ")


def test_cli_with_hostile_values_exits_cleanly_and_changes_nothing(loaded, backend, request):
    before = snapshot(loaded)
    if backend == "embedded":
        loaded.close()
        options = ["--db", str(loaded.store.path)]
    else:
        uri, _, _ = request.getfixturevalue("neo4j_server")
        options = ["--neo4j", uri]
    runner = CliRunner(env={"NEO4J_URI": None, "STATETECH_DB": None})
    payload = "agency:example-bureau'}) MATCH (n) DETACH DELETE n //"
    result = runner.invoke(cli, [*options, "query", "run", "contracts/by-agency", "-p", f"agency={payload}"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: parameter 'agency': no entity has the id or name {payload!r}")
    result = runner.invoke(cli, [*options, "cypher", "MATCH (a:Agency {id: $id}) RETURN a.id AS id", "-p",
                                 f"id={payload}", "--format", "json"])
    assert (result.exit_code, result.output) == (0, "[]\n")
    result = runner.invoke(cli, [*options, "path", payload, "agency:example-dept"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    result = runner.invoke(cli, [*options, "cypher", "MATCH (n) DETACH DELETE n"])
    assert result.exit_code == 1
    assert "ran read-only" in result.output
    assert snapshot(loaded) == before
