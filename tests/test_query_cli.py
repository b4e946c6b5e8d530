"""``statetech query``, ``statetech cypher`` and ``statetech path`` on both stores: exact output in every format,
typed parameters with clear errors, read-only by default, and no traceback for a user mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.catalog import Catalog
from statetech.loaders.curated import load_files

FIXTURES = Path(__file__).parent / "fixtures" / "curated"


@pytest.fixture
def store_args(graph, backend, request):
    """Global options that point the CLI at a store holding the test fixtures (small.yaml + rich.yaml)."""
    load_files(graph, [FIXTURES / "small.yaml", FIXTURES / "rich.yaml"])
    if backend == "embedded":
        graph.close()  # the CLI opens the file itself; one process at a time
        return ["--db", str(graph.store.path)], {}
    uri, user, password = request.getfixturevalue("neo4j_server")
    env = {"NEO4J_USERNAME": user or "neo4j", "NEO4J_PASSWORD": password} if password else {}
    return ["--neo4j", uri], env


def run(store_args, *args: str, input: str | None = None):
    options, env = store_args
    result = CliRunner(env={"NEO4J_URI": None, "STATETECH_DB": None, **env}).invoke(
        cli, [*options, *args], input=input)
    assert "Traceback" not in result.output
    return result


# --- query list / show (no store) -----------------------------------------------------------------------------------


def test_query_list_names_and_titles():
    result = CliRunner().invoke(cli, ["query", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "title"]
    catalog = list(Catalog.load())
    assert len(lines) == 2 + len(catalog)
    for line, query in zip(lines[2:], catalog):
        assert line.split(None, 1) == [query.name, query.title]


def test_query_show_prints_description_params_and_the_cypher():
    result = CliRunner().invoke(cli, ["query", "show", "contracts/by-agency"])
    assert result.exit_code == 0
    query = Catalog.load().get("contracts/by-agency")
    head, cypher = result.output.split("// by-agency.cypher\n")
    assert cypher == query.body  # exactly what runs, ready to paste into Neo4j Browser
    assert head.splitlines()[:2] == ["contracts/by-agency: Contracts awarded by an agency", ""]
    assert " ".join(head.split("\n\nparameters:")[0].split("\n\n", 1)[1].split()) == query.description
    assert ("\nparameters:\n"
            "  agency: the id or name of an Agency (required)\n"
            "      agency id or name, e.g. agency:ice or ICE\n"
            "  include_sub_agencies: true or false (default true)\n"
            "      also contracts awarded by agencies PART_OF this one\n"
            "  since: a date YYYY-MM-DD (or YYYY-MM, YYYY) (optional)\n"
            "      only contracts starting on or after this date\n"
            "  limit: a whole number (default 100)\n"
            "      at most this many rows\n") in head
    assert "\nrun: statetech query run contracts/by-agency --param agency=...\n" in head
    assert ("Neo4j Browser: set each parameter first, e.g. :param agency => ...; :param include_sub_agencies => "
            "true; :param since => ...; :param limit => 100\n") in head


def test_query_show_unknown_name_is_one_error_line():
    result = CliRunner().invoke(cli, ["query", "show", "contracts/by-agnecy"])
    assert result.exit_code == 1
    assert result.output == ("Error: no stored query named 'contracts/by-agnecy'; did you mean contracts/by-agency, "
                             "contracts/by-vendor, contracts/largest?\n")


# --- query run ----------------------------------------------------------------------------------------------------

BY_AGENCY = ["query", "run", "contracts/by-agency", "-p", "agency=EXB", "-p", "include_sub_agencies=no",
             "-p", "since=2023"]


def test_run_json(store_args):
    result = run(store_args, *BY_AGENCY, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["contract"], r["obligated_usd"], r["vendors"]) for r in rows] == [
        ("contract:example-award-1", 1500000.5, ["company:example-cloud"]),
        ("contract:example-analytics-2", 800000.0, ["company:example-analytics"]),
    ]
    assert list(rows[0]) == Catalog.load().get("contracts/by-agency").returns
    assert rows[0]["sources"] == ["source:example-20240102-award"]


def test_run_csv_and_jsonl(store_args):
    args = ["query", "run", "agencies/vendor-totals", "-p", "agency=agency:example-city"]
    csv_text = run(store_args, *args, "--format", "csv").output
    assert csv_text == (
        "vendor,name,contracts,task_orders,obligated_usd,potential_usd,unvalued,contract_ids\n"
        'company:example-analytics,Example Analytics Corp,1,0,250000.25,,0,"[""contract:example-analytics-bpa""]"\n'
        'company:example-broker,Example Data Broker,1,0,,,1,"[""contract:example-pilot""]"\n')
    lines = run(store_args, *args, "--format", "jsonl").output.splitlines()
    assert [json.loads(line)["vendor"] for line in lines] == ["company:example-analytics", "company:example-broker"]


def test_run_table(store_args):
    result = run(store_args, "query", "run", "entities/search", "-p", "text=police", "-p", "kind=Agency")
    assert result.exit_code == 0
    assert result.output == (
        "id                           kind    name                  aliases\n"
        "---------------------------  ------  --------------------  -------\n"
        "agency:example-city          Agency  Example City Police\n"
        "agency:example-state-police  Agency  Example State Police  ESP\n"
        "(2 rows)\n")


def test_run_to_a_file(store_args, tmp_path):
    out = tmp_path / "rows.json"
    result = run(store_args, *BY_AGENCY, "--format", "json", "--output", str(out))
    assert result.exit_code == 0 and result.output == ""
    assert [r["contract"] for r in json.loads(out.read_text(encoding="utf-8"))] == [
        "contract:example-award-1", "contract:example-analytics-2"]


def test_run_to_an_impossible_file_is_a_clear_error(store_args, tmp_path):
    out = tmp_path / "missing-folder" / "rows.json"
    result = run(store_args, *BY_AGENCY, "--output", str(out))
    # refused while the command line is read, before the query runs (cli/paths.py)
    assert result.exit_code == 2
    assert result.output.endswith(f"Error: Invalid value for '--output' / '-o': the folder {out.parent} does not "
                                  "exist; create it first or choose another path\n")


def test_repeated_param_makes_a_list(graph, small_fixture, tmp_path):
    from statetech.cli.params import parse_params

    load_files(graph, [small_fixture])
    folder = tmp_path / "catalog" / "q"
    folder.mkdir(parents=True)
    (folder / "kinds.cypher").write_text(
        "// title: Entities of some kinds\n// description: Counts entities of the given kinds.\n"
        "// params:\n//   kinds: {type: list, choices: [Agency, Company, Person], help: \"kinds\"}\n"
        "// returns: [kind, entities]\n"
        "MATCH (n:Entity) WHERE n.kind IN $kinds RETURN n.kind AS kind, count(n) AS entities ORDER BY kind\n",
        encoding="utf-8")
    catalog = Catalog.load(tmp_path / "catalog")
    expected = [{"kind": "Agency", "entities": 2}, {"kind": "Company", "entities": 1}]
    repeated = parse_params(("kinds=Agency", "kinds=Company"))
    assert repeated == {"kinds": ["Agency", "Company"]}
    assert catalog.run(graph, "q/kinds", repeated).rows == expected
    assert catalog.run(graph, "q/kinds", parse_params(("kinds=Agency,Company",))).rows == expected


@pytest.mark.parametrize("params, message", [
    (["agency=agency:example-bureau", "limit=many"], "parameter 'limit' expects a whole number, got 'many'"),
    (["agency=agency:example-bureau", "since=2024-13-01"],
     "parameter 'since' expects a date YYYY-MM-DD (or YYYY-MM, YYYY), got '2024-13-01'"),
    (["agency=agency:example-bureau", "include_sub_agencies=perhaps"],
     "parameter 'include_sub_agencies' expects true or false, got 'perhaps'"),
    (["limit=3"], "query 'contracts/by-agency' needs --param agency=... (the id or name of an Agency)"),
    (["agency=EXB", "agnecy=EXB"],
     "query 'contracts/by-agency' has no parameter 'agnecy'; its parameters: agency, include_sub_agencies, since, "
     "limit"),
    (["agency=company:example-cloud"], "parameter 'agency' expects an Agency; 'company:example-cloud' is a Company"),
    (["agency=Example"], "parameter 'agency': 'Example' matches 5 entities; give one of these ids:\n"
                         "  agency:example-bureau  (Agency) Example Bureau\n"
                         "  agency:example-city  (Agency) Example City Police\n"
                         "  agency:example-dept  (Agency) Example Department\n"
                         "  agency:example-office  (Agency) Example Field Office\n"
                         "  agency:example-state-police  (Agency) Example State Police"),
    (["agency=Nowhere"], "parameter 'agency': no entity has the id or name 'Nowhere'; try 'statetech query run "
                         "entities/search --param text=...' to look it up"),
])
def test_run_parameter_mistakes(store_args, params, message):
    args = ["query", "run", "contracts/by-agency"]
    for p in params:
        args += ["--param", p]
    result = run(store_args, *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_run_choice_mistake_and_malformed_param(store_args):
    result = run(store_args, "query", "run", "records/alleged", "-p", "record=node")
    assert (result.exit_code, result.output) == (1, "Error: parameter 'record' must be one of entity, relationship; "
                                                    "got 'node'\n")
    result = run(store_args, "query", "run", "records/alleged", "-p", "record")
    assert result.exit_code == 2
    assert "Invalid value for --param: 'record' is not KEY=VALUE" in result.output


# --- cypher -------------------------------------------------------------------------------------------------------


def test_cypher_reads_with_parameters(store_args):
    result = run(store_args, "cypher", "MATCH (a:Agency) WHERE a.level = $level RETURN a.id AS id ORDER BY id LIMIT $n",
                 "-p", "level=state", "--json-param", "n=5", "--format", "csv")
    assert (result.exit_code, result.output) == (0, "id\nagency:example-state-police\n")


def test_cypher_from_stdin(store_args):
    result = run(store_args, "cypher", "-", "-p", "id=agency:example-dept", "--format", "jsonl",
                 input="MATCH (a:Agency {id: $id})\nRETURN a.name AS name\n")
    assert (result.exit_code, result.output) == (0, '{"name": "Example Department"}\n')


WRITE = "MATCH (a:Agency {id: 'agency:example-dept'}) SET a.name = 'Renamed' RETURN a.name AS name"
READ_NAME = "MATCH (a:Agency {id: 'agency:example-dept'}) RETURN a.name AS name"


def test_cypher_is_read_only_unless_write_is_given(store_args, backend):
    result = run(store_args, "cypher", WRITE)
    where = "embedded store" if backend == "embedded" else "Neo.ClientError.Statement.AccessMode"
    assert (result.exit_code, result.output) == (1, f"Error: this query tries to write, but it ran read-only ({where}); "
                                                    "add --write to let 'statetech cypher' change data\n")
    assert run(store_args, "cypher", READ_NAME, "--format", "json").output == '[\n  {\n    "name": "Example Department"\n  }\n]\n'
    result = run(store_args, "cypher", WRITE, "--write", "--format", "jsonl")
    assert (result.exit_code, result.output) == (0, '{"name": "Renamed"}\n')
    assert run(store_args, "cypher", READ_NAME, "--format", "jsonl").output == '{"name": "Renamed"}\n'


def test_cypher_mistakes(store_args):
    result = run(store_args, "cypher", "MATCH (n RETURN n")
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert len(result.output.splitlines()) == 1
    result = run(store_args, "cypher", "RETURN $x AS x", "--json-param", "x={oops")
    assert result.exit_code == 2
    assert "Invalid value for --json-param: the value of 'x' is not JSON" in result.output
    result = run(store_args, "cypher", "  ")
    assert result.exit_code == 2 and "the query is empty" in result.output


# --- path ---------------------------------------------------------------------------------------------------------


def test_path_text(store_args):
    result = run(store_args, "path", "Example Official", "Example Integrator Inc.")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Example Official (Person person:example-official)  and  Example Integrator Inc. (Company "
        "company:example-integrator)\n"
        "are connected by 1 shortest path of 1 hop:\n"
        "\n"
        "Path 1\n"
        "  Example Official (Person person:example-official)\n"
        "  -[WORKS_FOR]-> Example Integrator Inc. (Company company:example-integrator)\n"
        "      reported; from 2021-09; role: vice president\n"
        "      source: Example IDV and its task orders (Example Gazette, 2022-09-15) https://example.org/awards/idv\n")


def test_path_text_several_paths_backwards_hops_and_limit(store_args):
    result = run(store_args, "path", "agency:example-dept", "person:example-organiser", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Example Department (Agency agency:example-dept)  and  Example Organiser (Person person:example-organiser)\n"
        "are connected by 3 shortest paths of 4 hops; showing the first 1:\n"
        "\n"
        "Path 1\n"
        "  Example Department (Agency agency:example-dept)\n"
        "  <-[PART_OF]- Example Bureau (Agency agency:example-bureau)\n"
        "      confirmed\n"
        "      source: Example award notice (Example Gazette, 2024-01-02) https://example.org/awards/1\n"
        "  -[AWARDED]-> Example hosting award (Contract contract:example-award-1)\n"
        "      confirmed\n"
        "      source: Example award notice (Example Gazette, 2024-01-02) https://example.org/awards/1\n"
        "  <-[TARGETS]- Example workers' open letter (EmployeeAction action:example-letter)\n"
        "      reported\n"
        "      source: Example open letter (Example Workers, 2024-03) https://example.org/letter\n"
        "  <-[PARTICIPATED_IN]- Example Organiser (Person person:example-organiser)\n"
        "      reported; role: organiser\n"
        "      source: Example open letter (Example Workers, 2024-03) https://example.org/letter\n")


def test_path_json(store_args):
    result = run(store_args, "path", "agency:example-office", "agency:example-dept", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["total_paths"], data["total_is_a_lower_bound"], data["max_hops"]) == (1, False, 6)
    (path,) = data["paths"]
    assert [e["id"] for e in path["entities"]] == ["agency:example-office", "agency:example-bureau",
                                                   "agency:example-dept"]
    assert [(s["type"], s["from"], s["to"], s["direction"]) for s in path["steps"]] == [
        ("PART_OF", "agency:example-office", "agency:example-bureau", "forward"),
        ("PART_OF", "agency:example-bureau", "agency:example-dept", "forward"),
    ]
    assert path["steps"][0]["sources"] == [{
        "id": "source:example-20220915-idv", "published": "2022-09-15", "publisher": "Example Gazette",
        "title": "Example IDV and its task orders", "url": "https://example.org/awards/idv"}]


def test_path_not_connected_and_mistakes(store_args):
    result = run(store_args, "path", "agency:example-city", "agency:example-dept", "--max-hops", "2")
    assert (result.exit_code, result.output) == (0, (
        "Example City Police (Agency agency:example-city)  and  Example Department (Agency agency:example-dept)\n"
        "are not connected within 2 hops.\n"))
    result = run(store_args, "path", "EXB", "agency:example-bureau")
    assert (result.exit_code, result.output) == (1, "Error: 'EXB' and 'agency:example-bureau' are the same entity "
                                                    "(agency:example-bureau); give two different ones\n")
    result = run(store_args, "path", "Nowhere", "agency:example-bureau")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no entity has the id or name 'Nowhere'")
    result = run(store_args, "path", "EXB", "agency:example-dept", "--max-hops", "11")
    assert result.exit_code == 2 and "11 is not in the range 1<=x<=10" in result.output


def test_path_direction_of_an_edge_made_outside_statetech(graph, small_fixture):
    """Edges drawn in Neo4j Browser lack the from/to properties statetech stores; the direction comes from the graph."""
    load_files(graph, [small_fixture])
    graph.query("MATCH (a:Entity {id: 'agency:example-dept'}) MATCH (b:Entity {id: 'product:example-platform'}) "
                "CREATE (a)-[:USES {id: 'rel:hand-made', confidence: 'alleged', "
                "sources: ['source:example-20240102-award']}]->(b)", write=True)
    connections = graph.paths("product:example-platform", "agency:example-dept")
    assert [[(h.type, h.source, h.target, h.forward) for h in c.hops] for c in connections.paths] == [
        [("USES", "agency:example-dept", "product:example-platform", False)]]
    assert connections.paths[0].hops[0].sources == ["source:example-20240102-award"]
