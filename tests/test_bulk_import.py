"""The bulk path: records written as neo4j-admin import files, imported into an empty database by the launcher, give
the same graph and the same answer to every stored query as the same records written by the normal path.

The unit tests read the CSV files back; the integration tests start a second real Neo4j from the launcher with
``import_dir`` (tests/neo4j_server.py runs the importer's Java main class on its classpath, then creates the schema),
and compare it with the session's Neo4j after a normal ``load``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_queries_parity import CATALOG, FIXTURE_FILES, same, sweep

from statetech.graph.api import Graph, shipped_seeds_path
from statetech.graph.bulk import (
    ARRAY_DELIMITER,
    BulkImportError,
    ImportFiles,
    run_import,
    schema_statements,
    write_import_files,
)
from statetech.graph.cypher import schema_statements as store_schema_statements
from statetech.graph.model import NODE_KINDS, Agency, Company, Contract, RecordSet, Relationship, Source
from statetech.graph.provenance import FORMAT_VERSION
from statetech.graph.store import Neo4jStore
from statetech.graph.writer import record_properties
from statetech.loaders.curated import load_curated, load_files
from statetech.graph.vocabulary import citation_token

SOURCE = Source(id="source:test-1", url="https://example.org/1", title="A test source", publisher="Example")


def _relationship(rel_type: str, from_id: str, to_id: str, **fields) -> Relationship:
    return Relationship.model_validate({"type": rel_type, "from": from_id, "to": to_id, "sources": [SOURCE.id],
                                        "confidence": "reported", **fields})


def _records() -> RecordSet:
    agency = Agency(id="agency:test-dept", name='Dept, "of" Tests', sources=[SOURCE.id], aliases=["DoT", "T;D"],
                    confidence="confirmed")
    company = Company(id="company:acme", name="Acme\nCorp", sources=[SOURCE.id], confidence="confirmed")
    contract = Contract(id="contract:acme-1", name="Acme one", sources=[SOURCE.id], obligated_usd=1234567.891,
                        potential_usd=2e9, confidence="confirmed")
    rels = [_relationship("AWARDED", agency.id, contract.id),
            _relationship("AWARDED_TO", contract.id, company.id, amount_usd=0.1)]
    other = Company(id="company:beta", name="Beta", aliases=["B"], sources=[SOURCE.id], confidence="reported")
    return RecordSet(sources=[SOURCE], nodes=[agency, company, contract, other], relationships=rels)


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_files_have_typed_headers_and_exact_values(tmp_path):
    files = write_import_files(_records(), tmp_path / "bulk")
    assert (files.sources, files.nodes, files.relationships) == (1, 4, 2)
    assert files.multiline  # the company's name holds a line break
    header, rows = _read(files.directory / "nodes-contract.csv")
    assert header[:2] == ["id:ID(Entity)", ":LABEL"]
    assert "obligated_usd:double" in header and "sources:string[]" in header and "search_text:string" in header
    row = dict(zip(header, rows[0]))
    assert row["id:ID(Entity)"] == "contract:acme-1"
    assert row[":LABEL"] == f"Entity{ARRAY_DELIMITER}Contract"
    assert float(row["obligated_usd:double"]) == 1234567.891 and row["potential_usd:double"] == "2000000000.0"
    header, rows = _read(files.directory / "nodes-agency.csv")
    row = dict(zip(header, rows[0]))
    assert row["name:string"] == 'Dept, "of" Tests'
    assert row["aliases:string[]"].split(ARRAY_DELIMITER) == ["DoT", "T;D"]
    header, rows = _read(files.directory / "relationships-awarded_to.csv")
    assert header[:3] == [":START_ID(Entity)", ":END_ID(Entity)", ":TYPE"]
    row = dict(zip(header, rows[0]))
    assert (row[":START_ID(Entity)"], row[":END_ID(Entity)"], row[":TYPE"]) == ("contract:acme-1", "company:acme",
                                                                                "AWARDED_TO")
    assert row["amount_usd:double"] == "0.1"
    # every property the writer would store is a column, and nothing else (the provenance fields included: its
    # source is among the records)
    rel = _records().relationships[1]
    assert {h.split(":")[0] for h in header[3:]} == set(record_properties(rel)) | {"newest_source"}
    # a missing value is an empty, unquoted field (no property), text is quoted
    text = (files.directory / "nodes-company.csv").read_text(encoding="utf-8")
    # (agency_count, the first column, and cited, the citation words of its sources, are derived)
    assert (f'"company:acme","Entity{ARRAY_DELIMITER}Company","1",,"{citation_token(SOURCE.id)}","confirmed",'
            f'"Company","Acme\nCorp",') in text
    read_back = ImportFiles.read(files.directory)
    assert read_back == files
    assert schema_statements(files) == [*store_schema_statements(), "CALL db.awaitIndexes(600)",
                                        "MERGE (m:StatetechFormat {id: 'statetech:format'}) "
                                        f"SET m.provenance_fields = {FORMAT_VERSION}"]
    assert all(";" not in statement for statement in schema_statements(files))


def test_command_names_every_file(tmp_path):
    files = write_import_files(_records(), tmp_path)
    args = files.arguments("neo4j")
    assert args[:4] == ["database", "import", "full", "neo4j"]
    assert sorted(a.split("=", 1)[1] for a in args if a.startswith("--nodes=")) == sorted(
        str(p) for p in files.node_files)
    assert len([a for a in args if a.startswith("--relationships=")]) == 2
    assert "--array-delimiter=U+001F" in args and "--multiline-fields=true" in args
    assert files.command().startswith("neo4j-admin database import full neo4j --nodes=")


def test_missing_end_is_refused_before_any_file(tmp_path):
    records = _records()
    records.relationships.append(_relationship("AWARDED_TO", "contract:acme-1", "company:nowhere"))
    with pytest.raises(BulkImportError, match=r"^rel:contract:acme-1>AWARDED_TO>company:nowhere: company:nowhere is "
                                              r"not among the records; a bulk import makes a new database"):
        write_import_files(records, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_list_item_holding_the_delimiter_is_refused(tmp_path):
    records = _records()
    records.nodes[0] = Agency(id="agency:test-dept", name="Dept", sources=[SOURCE.id], aliases=["a\x1fb"],
                              confidence="confirmed")
    with pytest.raises(BulkImportError, match=r"agency:test-dept: an item of 'aliases' holds the control character"):
        write_import_files(records, tmp_path)


def test_a_property_of_two_types_is_refused_naming_the_record(tmp_path):
    records = _records()
    # Validation makes every amount a float; a record built around it (model_construct) can still hold an int.
    records.nodes.append(Contract.model_construct(id="contract:acme-2", kind="Contract", name="Acme two",
                                                  sources=[SOURCE.id], confidence="reported", obligated_usd=5))
    with pytest.raises(BulkImportError, match=r"^contract:acme-2: property 'obligated_usd' holds values of more than "
                                              r"one type or of a type a Neo4j property cannot hold \(float, int\)"):
        write_import_files(records, tmp_path)


def test_reading_a_directory_without_files_says_what_to_do(tmp_path):
    with pytest.raises(BulkImportError, match=r"holds no manifest.json; write the import files with 'statetech load "
                                              r"--bulk-import-dir"):
        ImportFiles.read(tmp_path)


def test_cli_writes_the_files_and_prints_the_command(tmp_path):
    from click.testing import CliRunner

    from statetech.cli.main import cli

    out = tmp_path / "bulk"
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "unused.grafeo"), "load", "--bulk-import-dir", str(out),
                                      *map(str, FIXTURE_FILES)])
    assert result.exit_code == 0, result.output
    files = ImportFiles.read(out)
    assert result.output.splitlines()[0] == (f"wrote import files for {files.sources} sources, {files.nodes} nodes, "
                                             f"{files.relationships} relationships to {out}")
    assert f"  {files.command()}" in result.output.splitlines()
    assert not (tmp_path / "unused.grafeo").exists()  # no store is opened
    records = load_curated(FIXTURE_FILES)
    assert files.nodes == len({n.id for n in records.nodes}) and files.sources == len({s.id for s in records.sources})

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = CliRunner().invoke(cli, ["load", "--bulk-import-dir", str(a_file), *map(str, FIXTURE_FILES)])
    assert result.exit_code == 2
    assert f"Error: Invalid value for '--bulk-import-dir': Directory '{a_file}' is a file." in result.output
    result = CliRunner().invoke(cli, ["load", "--bulk-import-dir", str(a_file / "sub"), *map(str, FIXTURE_FILES)])
    assert result.exit_code == 1
    assert result.output == (f"Error: cannot write the import files into {a_file / 'sub'}: Not a directory; give a "
                             f"directory you can write to\n")


@pytest.mark.neo4j
def test_importer_runs_once_then_refuses_an_existing_database(tmp_path):
    from neo4j_server import admin_command

    files = write_import_files(_records(), tmp_path / "files")
    output = run_import(files, tmp_path / "home", admin=admin_command())
    assert "IMPORT DONE" in output
    assert "  5 nodes\n  2 relationships\n" in output  # the source and four entities
    with pytest.raises(BulkImportError, match=r"^neo4j-admin import into .*/home failed \(exit 70\); a bulk import "
                                              r"only creates a new database: with the server stopped, give a Neo4j "
                                              r"home without database 'neo4j', or another database name:\n"):
        run_import(files, tmp_path / "home", admin=admin_command())


# --- on a real server ----------------------------------------------------------------------------------------------


DATASETS = {"seeds": [shipped_seeds_path()], "fixtures": FIXTURE_FILES}


class Entities:
    """What test_queries_parity.sweep needs to pick parameters: ids by kind (by degree), source ids and urls."""

    def __init__(self, graph: Graph) -> None:
        rows = graph.query("MATCH (n:Entity) OPTIONAL MATCH (n)-[r]-() WITH n, count(r) AS degree "
                           "RETURN n.id AS id, n.kind AS kind, degree ORDER BY degree DESC, id").rows
        self.by_kind: dict[str, list[str]] = {k: [] for k in NODE_KINDS}
        for row in rows:
            self.by_kind[row["kind"]].append(row["id"])
        self.sources = [r["id"] for r in graph.query("MATCH (s:Source) RETURN s.id AS id ORDER BY id").rows]
        self.urls = [r["url"] for r in graph.query("MATCH (s:Source) RETURN s.url AS url ORDER BY url").rows]

    def entities(self, kinds: tuple[str, ...]) -> list[str]:
        return [i for k in (kinds or tuple(NODE_KINDS)) for i in self.by_kind[k]][:40]


@pytest.fixture(scope="module", params=sorted(DATASETS))
def both_paths(request, neo4j_store, tmp_path_factory):
    """(bulk-imported graph, normally loaded graph) of one dataset, each on its own real Neo4j."""
    from neo4j_server import Neo4jServer

    paths = DATASETS[request.param]
    files = write_import_files(load_curated(paths), tmp_path_factory.mktemp("bulk") / "import")
    normal = Graph(neo4j_store)
    neo4j_store.clear()
    load_files(normal, paths)
    server = Neo4jServer(heap="1g", pagecache_mb=64, import_dir=files.directory)
    try:
        server.start()
        bulk = Graph(Neo4jStore(server.uri))
        try:
            yield bulk, normal
        finally:
            bulk.close()
    finally:
        server.stop()
        neo4j_store.clear()


def _dump(graph: Graph):
    nodes = graph.query("MATCH (n) RETURN n.id AS id, labels(n) AS labels, properties(n) AS props ORDER BY id").rows
    for node in nodes:
        node["labels"] = sorted(node["labels"])
        node["props"] = dict(sorted(node["props"].items()))
    rels = graph.query("MATCH (a)-[r]->(b) RETURN r.id AS id, type(r) AS type, a.id AS source, b.id AS target, "
                       "properties(r) AS props ORDER BY id").rows
    for rel in rels:
        rel["props"] = dict(sorted(rel["props"].items()))
    return nodes, rels


@pytest.mark.neo4j
def test_bulk_import_stores_the_same_graph(both_paths):
    bulk, normal = both_paths
    bulk_nodes, bulk_rels = _dump(bulk)
    normal_nodes, normal_rels = _dump(normal)
    assert len(bulk_nodes) == len(normal_nodes) > 20 and len(bulk_rels) == len(normal_rels) > 20
    diff = same(bulk_nodes, normal_nodes, "nodes")
    assert diff is None, diff
    diff = same(bulk_rels, normal_rels, "relationships")
    assert diff is None, diff
    assert bulk.stats().as_dict() == normal.stats().as_dict()


@pytest.mark.neo4j
def test_bulk_import_has_the_same_schema_online(both_paths):
    bulk, normal = both_paths
    show = ("SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, state "
            "RETURN name, type, entityType, labelsOrTypes, properties, state ORDER BY name")
    bulk_indexes, normal_indexes = bulk.query(show).rows, normal.query(show).rows
    assert {row["state"] for row in bulk_indexes} == {"ONLINE"}
    assert bulk_indexes == normal_indexes
    constraints = "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN * ORDER BY name"
    assert bulk.query(constraints).rows == normal.query(constraints).rows


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted(CATALOG.queries))
def test_every_stored_query_answers_the_same(both_paths, name):
    bulk, normal = both_paths
    query = CATALOG.get(name)
    cases = sweep(query, Entities(normal))
    assert cases
    for params in cases:
        expected, got = CATALOG.run(normal, name, params), CATALOG.run(bulk, name, params)
        assert got.columns == expected.columns
        diff = same(got.rows, expected.rows, "rows")
        assert diff is None, f"{name} {params}: bulk-imported and normally loaded graphs differ: {diff}"
