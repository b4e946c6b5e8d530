"""The stored-query catalog: every shipped query loads and is documented; mistakes in a query file are reported with
file:line; parameters are coerced by their declared type; engine variants and read-only runs work on both stores."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from statetech.graph.catalog import Catalog, Param, parse_query_file
from statetech.graph.errors import QueryError, UnknownEntity, ValidationFailed
from statetech.graph.model import NODE_KINDS
from statetech.loaders.curated import load_files

# --- the shipped catalog ------------------------------------------------------------------------------------------


def test_every_shipped_query_loads():
    catalog = Catalog.load()
    assert len(catalog) >= 20
    names = [q.name for q in catalog]
    assert names == sorted(names)
    for query in catalog:
        assert re.fullmatch(r"[a-z]+/[a-z-]+", query.name), query.name
        assert query.path.name == query.name.split("/")[1] + ".cypher"


def test_docs_every_query_has_title_description_params_and_returns():
    """The docs test: what 'query list' and 'query show' print is there and says something."""
    for query in Catalog.load():
        assert 10 <= len(query.title) <= 80 and not query.title.endswith("."), query.name
        assert len(query.description.split()) >= 8, f"{query.name}: description too short"
        assert query.description.strip().endswith("."), f"{query.name}: description should be sentences"
        assert query.returns, f"{query.name}: no returned columns declared"
        assert len(set(query.returns)) == len(query.returns), query.name
        for param in query.params.values():
            assert param.help, f"{query.name}: parameter {param.name} has no help text"
            if param.type == "entity":
                assert all(k in NODE_KINDS for k in param.kinds)
        first, second = query.path.read_text(encoding="utf-8").split("\n", 2)[:2]
        assert first == f"// name: {query.name}", f"{query.name}: the header starts with the query's name"
        assert second.startswith("// title: "), f"{query.name}: then its title"


def test_shipped_queries_return_scalars_and_lists_only():
    """Rows of ids, names and lists compare exactly across stores; a node or map column would not."""
    for query in Catalog.load():
        final = query.body[query.body.rindex("\nRETURN"):]  # subqueries' RETURNs are indented
        assert not re.search(r"RETURN\s+(DISTINCT\s+)?[a-z]{1,2}\s*(,|$)", final, re.M), f"{query.name} returns a node"
        assert "\nORDER BY" in final, f"{query.name}: final rows are not ordered"


def test_no_shipped_query_writes():
    for query in Catalog.load():
        assert not query.writes
        assert not re.search(r"\b(CREATE|MERGE|DELETE|SET|REMOVE|DROP|LOAD CSV)\b", query.body), query.name


# --- mistakes in query files, located -------------------------------------------------------------------------------


def write(root: Path, name: str, text: str) -> Path:
    path = root / f"{name}.cypher"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """// title: Contracts of an agency
// description: Every contract the agency awarded.
// params:
//   agency: {type: entity, kind: Agency, required: true, help: "agency id or name"}
//   limit: {type: int, default: 10, help: "at most this many"}
// returns: [contract]
MATCH (:Agency {id: $agency})-[:AWARDED]->(c:Contract)
RETURN c.id AS contract
ORDER BY contract
LIMIT $limit
"""


def problems(root: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        Catalog.load(root)
    return [str(p) for p in info.value.problems]


def test_a_good_file_parses(tmp_path):
    write(tmp_path, "contracts/mine", GOOD)
    query = Catalog.load(tmp_path).get("contracts/mine")
    assert query.title == "Contracts of an agency"
    assert query.params["agency"] == Param("agency", "entity", True, None, None, "agency id or name", ("Agency",))
    assert query.params["limit"].default == 10
    assert query.returns == ["contract"]
    assert query.body_line == 7
    assert query.body.startswith("MATCH (:Agency {id: $agency})")


def test_used_but_not_declared_names_file_and_line(tmp_path):
    path = write(tmp_path, "q/used", GOOD.replace("LIMIT $limit", "LIMIT $limit\n// $ignored in a comment\n"
                                                  "  AND c.x = $since"))
    assert problems(tmp_path) == [f"{path}:12: $since is used but not declared; declare it under '// params:'"]


def test_declared_but_unused_names_the_declaration_line(tmp_path):
    path = write(tmp_path, "q/unused", GOOD.replace("LIMIT $limit\n", ""))
    assert problems(tmp_path) == [
        f"{path}:5: parameter 'limit' is declared but never used; use $limit in the query or remove it from the header"]


def test_parameters_in_strings_and_comments_do_not_count(tmp_path):
    path = write(tmp_path, "q/strings", GOOD.replace(
        "RETURN c.id AS contract", "RETURN c.id AS contract, '$agency' AS a, \"$x\" AS b, `$y` AS c /* $z */"))
    query = parse_query_file(path, tmp_path)
    assert set(query.params) == {"agency", "limit"}
    path.write_text(GOOD.replace("LIMIT $limit", "LIMIT 5 // $limit"), encoding="utf-8")
    assert problems(tmp_path) == [
        f"{path}:5: parameter 'limit' is declared but never used; use $limit in the query or remove it from the header"]


@pytest.mark.parametrize("edit, line, message", [
    (("// returns: [contract]", "// retruns: [contract]"), 6,
     "unknown header key 'retruns'; did you mean 'returns'?"),
    (("// title: Contracts of an agency\n", ""), 1, "header lacks 'title'; add a '// title: ...' line"),
    (("{type: int, default: 10", "{type: integer, default: 10"), 5,
     "parameter 'limit' has unknown type 'integer'; use one of string, int, float, date, bool, list, entity"),
    (("{type: int, default: 10", "{type: int, defualt: 10"), 5,
     "parameter 'limit' has unknown option 'defualt'; did you mean 'default'?"),
    (("default: 10", "default: ten"), 5,
     "default does not fit: parameter 'limit' expects a whole number, got 'ten'"),
    (("required: true, help", "required: true, default: agency:x, help"), 4,
     "parameter 'agency' is required and has a default; drop one: a default makes the parameter optional"),
    (("kind: Agency", "kind: Agencyy"), 4,
     "parameter 'agency' names unknown node kind 'Agencyy'; use Agency, Company, Contract, EmployeeAction, Policy, "
     "Person, Product"),
    (("{type: int, default: 10", "{type: int, kind: Agency, default: 10"), 5,
     "parameter 'limit': 'kind' applies only to entity parameters"),
    (("// returns: [contract]\n", ""), 1,
     "header lacks 'returns'; list the returned columns, e.g. '// returns: [id, name]'"),
    (("// title: Contracts", "// name: contracts/other\n// title: Contracts"), 1,
     "name 'contracts/other' does not match the file; a query's name is its path under queries/: use 'q/bad'"),
    (("// description: Every contract the agency awarded.", "// description: Every: contract: awarded"), 2,
     "query header is not valid YAML: mapping values are not allowed here; write '// key: value' lines; quote "
     "values that contain ':' or '#'"),
])
def test_header_mistakes_are_located(tmp_path, edit, line, message):
    assert edit[0] in GOOD
    path = write(tmp_path, "q/bad", GOOD.replace(*edit))
    assert problems(tmp_path)[0] == f"{path}:{line}: {message}"


def test_file_without_header(tmp_path):
    path = write(tmp_path, "q/bare", "MATCH (n) RETURN n.id AS id ORDER BY id\n")
    assert problems(tmp_path) == [f"{path}:1: a stored query starts with a header of '// key: value' lines; give at "
                                  "least '// title:', '// description:' and '// returns:'"]


def test_header_without_a_query(tmp_path):
    path = write(tmp_path, "q/empty", GOOD.split("MATCH")[0].replace("$", "").replace(
        "//   agency: {type: entity, kind: Agency, required: true, help: \"agency id or name\"}\n", "").replace(
        "//   limit: {type: int, default: 10, help: \"at most this many\"}\n", "").replace("// params:\n", ""))
    assert problems(tmp_path) == [f"{path}:4: no Cypher below the header; write the query after the '//' header lines"]


def test_all_problems_of_all_files_at_once(tmp_path):
    a = write(tmp_path, "a/one", GOOD.replace("$limit", "$limt"))
    b = write(tmp_path, "b/two", GOOD.replace("// title: Contracts of an agency\n", ""))
    with pytest.raises(ValidationFailed) as info:
        Catalog.load(tmp_path)
    assert str(info.value).splitlines() == [
        "the query catalog has errors: 3 problems; nothing was written",
        f"{a}:10: $limt is used but not declared; declare it under '// params:'",
        f"{a}:5: parameter 'limit' is declared but never used; use $limit in the query or remove it from the header",
        f"{b}:1: header lacks 'title'; add a '// title: ...' line",
    ]


# --- engine variants ------------------------------------------------------------------------------------------------


def test_variant_must_take_the_same_parameters(tmp_path):
    write(tmp_path, "q/v", GOOD)
    variant = tmp_path / "q" / "v.grafeo.cypher"
    variant.write_text("// embedded form\nMATCH (:Agency {id: $agency})-[:AWARDED]->(c:Contract)\n"
                       "RETURN c.id AS contract ORDER BY contract LIMIT $limt\n", encoding="utf-8")
    assert problems(tmp_path) == [
        f"{variant}:3: $limt is used here but not in v.cypher; a variant takes exactly the canonical query's parameters",
        f"{variant}:2: $limit of v.cypher is never used here; a variant takes exactly the canonical query's parameters",
    ]


def test_variant_of_unknown_engine_or_without_canonical(tmp_path):
    write(tmp_path, "q/v", GOOD)
    odd = tmp_path / "q" / "v.memgraph.cypher"
    odd.write_text(GOOD, encoding="utf-8")
    orphan = tmp_path / "q" / "w.grafeo.cypher"
    orphan.write_text(GOOD, encoding="utf-8")
    assert problems(tmp_path) == [
        f"{odd}:1: unknown engine 'memgraph' in a variant file name; name variants NAME.<engine>.cypher with engine "
        "one of grafeo",
        f"{orphan}:1: variant without a canonical query; add w.cypher beside it, or rename it",
    ]


CONSTANT = """// title: Which text ran
// description: Returns a constant naming the form of the query that ran.
// params:
//   x: {type: int, default: 1, help: "a number"}
// returns: [form, x]
RETURN '{form}' AS form, $x AS x
"""


def test_the_embedded_store_runs_the_variant_and_neo4j_the_canonical_text(graph, backend, tmp_path):
    folder = tmp_path / "catalog"
    write(folder, "q/form", CONSTANT.replace("{form}", "canonical"))
    (folder / "q" / "form.grafeo.cypher").write_text("RETURN 'grafeo variant' AS form, $x AS x\n", encoding="utf-8")
    result = Catalog.load(folder).run(graph, "q/form", {"x": "7"})
    expected = "grafeo variant" if backend == "embedded" else "canonical"
    assert result.rows == [{"form": expected, "x": 7}]


# --- read-only runs -----------------------------------------------------------------------------------------------

WRITER = """// title: A query that writes
// description: Renames an agency, which a canned query must not do unless it says so.
// params:
//   agency: {type: entity, required: true, help: "agency"}
// returns: [name]
{writes}MATCH (a:Agency {id: $agency}) SET a.name = 'Renamed' RETURN a.name AS name ORDER BY name
"""


def test_a_canned_query_that_writes_fails_read_only_on_both_stores(graph, small_fixture, tmp_path):
    load_files(graph, [small_fixture])
    write(tmp_path / "c", "q/writer", WRITER.replace("{writes}", ""))
    with pytest.raises(QueryError, match="this query tries to write, but it ran read-only"):
        Catalog.load(tmp_path / "c").run(graph, "q/writer", {"agency": "agency:example-dept"})
    assert graph.query("MATCH (a:Agency {id: 'agency:example-dept'}) RETURN a.name AS name").rows == [
        {"name": "Example Department"}]


def test_a_query_declaring_writes_runs_in_a_write_transaction(graph, small_fixture, tmp_path):
    load_files(graph, [small_fixture])
    write(tmp_path / "c", "q/writer", WRITER.replace("{writes}", "").replace("// returns:", "// writes: true\n// returns:"))
    assert Catalog.load(tmp_path / "c").run(graph, "q/writer", {"agency": "agency:example-dept"}).rows == [
        {"name": "Renamed"}]


# --- parameters: coercion and binding -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, raw, expected", [
    ("int", "42", 42), ("int", " 7 ", 7), ("int", 3.0, 3), ("int", -1, -1),
    ("float", "2.5", 2.5), ("float", "1e6", 1000000.0), ("float", 3, 3.0),
    ("bool", "true", True), ("bool", "No", False), ("bool", "1", True), ("bool", False, False),
    ("date", "2024", "2024"), ("date", "2024-02", "2024-02"), ("date", "2024-02-29", "2024-02-29"),
    ("string", "it's {here}", "it's {here}"), ("string", 5, "5"),
    ("list", "a, b,,c", ["a", "b", "c"]), ("list", ["x", "y"], ["x", "y"]),
    ("entity", "agency:ice", "agency:ice"),
])
def test_coercion(kind, raw, expected):
    value = Param("p", kind).coerce(raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("kind, raw, words", [
    ("int", "many", "a whole number"), ("int", "2.5", "a whole number"), ("int", True, "a whole number"),
    ("int", 2.5, "a whole number"),
    ("float", "lots", "a number"), ("float", "nan", "a number"), ("float", "inf", "a number"),
    ("bool", "maybe", "true or false"),
    ("date", "2024-13", "a date YYYY-MM-DD (or YYYY-MM, YYYY)"), ("date", "2023-02-29", "a date YYYY-MM-DD (or "
                                                                  "YYYY-MM, YYYY)"),
    ("date", "yesterday", "a date YYYY-MM-DD (or YYYY-MM, YYYY)"),
    ("string", ["a"], "a string"), ("string", True, "a string"),
])
def test_coercion_errors_name_the_parameter_and_type(kind, raw, words):
    with pytest.raises(QueryError) as info:
        Param("since", kind).coerce(raw)
    assert str(info.value) == f"parameter 'since' expects {words}, got {raw!r}"


def test_list_items_are_typed_and_choices_checked():
    years = Param("years", "list", items="int")
    assert years.coerce("2019, 2020") == [2019, 2020]
    with pytest.raises(QueryError) as info:
        years.coerce("2019,soon")
    assert str(info.value) == "parameter 'years' expects a comma-separated list of whole numbers, got '2019,soon'"
    kinds = Param("kinds", "list", choices=["Agency", "Company"])
    assert kinds.coerce(["Agency"]) == ["Agency"]
    with pytest.raises(QueryError) as info:
        kinds.coerce("Agency,Person")
    assert str(info.value) == "parameter 'kinds' must be one of Agency, Company; got 'Person'"


def test_bind_applies_defaults_and_rejects_unknown_or_missing(tmp_path):
    write(tmp_path, "q/mine", GOOD)
    query = Catalog.load(tmp_path).get("q/mine")
    assert query.bind({"agency": "ICE"}) == {"agency": "ICE", "limit": 10}
    assert query.bind({"agency": "ICE", "limit": "3"}) == {"agency": "ICE", "limit": 3}
    with pytest.raises(QueryError) as info:
        query.bind({"limit": "3"})
    assert str(info.value) == "query 'q/mine' needs --param agency=... (the id or name of an Agency)"
    with pytest.raises(QueryError) as info:
        query.bind({"agency": "ICE", "agnecy": "x"})
    assert str(info.value) == "query 'q/mine' has no parameter 'agnecy'; its parameters: agency, limit"


def test_unknown_query_name_suggests_close_ones():
    with pytest.raises(QueryError) as info:
        Catalog.load().get("contracts/by-agnecy")
    assert str(info.value) == ("no stored query named 'contracts/by-agnecy'; did you mean contracts/by-agency, "
                               "contracts/by-vendor, contracts/largest?")
    with pytest.raises(QueryError) as info:
        Catalog.load().get("zzz")
    assert str(info.value) == "no stored query named 'zzz'; 'statetech query list' shows them all"


# --- entity parameters --------------------------------------------------------------------------------------------


def test_entity_parameters_resolve_names_within_their_kinds(graph, small_fixture):
    load_files(graph, [small_fixture])
    catalog = Catalog.load()
    # 'Example' names eight entities but only two agencies; 'Example Bureau' is exact, 'EXB' an alias.
    for ref in ("agency:example-bureau", "Example Bureau", "EXB", "exb", "bureau"):
        _, bound = catalog.bind(graph, "contracts/by-agency", {"agency": ref})
        assert bound["agency"] == "agency:example-bureau", ref
    with pytest.raises(UnknownEntity) as info:
        catalog.bind(graph, "contracts/by-agency", {"agency": "Example"})
    assert str(info.value) == (
        "parameter 'agency': 'Example' matches 2 entities; give one of these ids:\n"
        "  agency:example-bureau  (Agency) Example Bureau\n"
        "  agency:example-dept  (Agency) Example Department")
    with pytest.raises(UnknownEntity) as info:
        catalog.bind(graph, "contracts/by-agency", {"agency": "company:example-cloud"})
    assert str(info.value) == "parameter 'agency' expects an Agency; 'company:example-cloud' is a Company"
    with pytest.raises(UnknownEntity) as info:
        catalog.bind(graph, "contracts/by-agency", {"agency": "Nowhere Office"})
    assert str(info.value).startswith("parameter 'agency': no entity has the id or name 'Nowhere Office'")


# --- the packed form Neo4j runs -------------------------------------------------------------------------------------
# Real runs of every packed shipped query against its text as written are in test_queries_parity.py; these pin which
# shapes the rewrite takes, and that it leaves every other shape alone.


def test_packed_query_turns_the_final_return_into_a_with():
    from statetech.graph.cypher import PACKED_COLUMN, packed_query

    text = ("MATCH (n:Entity)\n"
            "CALL (n) {\n  MATCH (n)-[r]->(m) RETURN count(r) AS degree\n}\n"
            "RETURN n.id AS id, [x IN n.sources | x] AS sources, {a: 1, b: coalesce(n.name, 'x, y')} AS extra,\n"
            "       degree\n"
            "ORDER BY degree DESC, id\nSKIP 1 LIMIT $limit // the 'RETURN' and UNION in this comment are not code\n")
    packed = packed_query(text)
    assert packed.columns == ("id", "sources", "extra", "degree")
    assert packed.text == (text[:text.index("RETURN n.id")] + "WITH" + text[text.index("RETURN n.id") + 6:].rstrip()
                           + f"\nRETURN collect([id, sources, extra, degree]) AS {PACKED_COLUMN}\n")
    # the RETURN inside the CALL subquery is untouched
    assert "RETURN count(r) AS degree" in packed.text


def test_packed_query_keeps_distinct_and_lowercase_keywords():
    from statetech.graph.cypher import packed_query

    packed = packed_query("match (a) return distinct a.id as agency, a order by agency")
    assert packed.columns == ("agency", "a")
    assert packed.text.startswith("match (a) WITH distinct a.id as agency, a order by agency\n")


@pytest.mark.parametrize("text", [
    "MATCH (a:Agency) RETURN a.id AS id UNION MATCH (c:Company) RETURN c.id AS id",  # a top-level UNION
    "MATCH (a) RETURN count(*)",                                                  # an unnamed column
    "MATCH (a) RETURN *",
    "MATCH (a) RETURN a.id AS id, a.name AS id",                                   # the same name twice
    "MATCH (a) RETURN a.id AS statetech_rows",                                     # the packed column's own name
    "MATCH (a) WITH a RETURN 'RETURN x AS y' AS text, a.id AS id DISTINCT",        # a keyword where none belongs
    "MATCH (a) SET a.x = 1",                                                       # nothing returned
    "CALL () { MATCH (a) RETURN a.id AS id }",                                     # RETURN only inside braces
])
def test_packed_query_leaves_other_shapes_alone(text):
    from statetech.graph.cypher import packed_query

    assert packed_query(text) is None


def test_write_queries_are_never_packed(tmp_path):
    root = tmp_path / "queries"
    (root / "q").mkdir(parents=True)
    (root / "q" / "read.cypher").write_text(
        "// title: Read something here\n// description: Reads the ids of every agency in the store, in order.\n"
        "// returns: [id]\nMATCH (a:Agency) RETURN a.id AS id ORDER BY id\n")
    (root / "q" / "write.cypher").write_text(
        "// title: Write something here\n// description: Writes a mark on every agency, then returns the ids.\n"
        "// returns: [id]\n// writes: true\nMATCH (a:Agency) SET a.mark = 1 RETURN a.id AS id ORDER BY id\n")
    catalog = Catalog.load(root)
    assert catalog.get("q/read").packed is not None
    assert catalog.get("q/write").packed is None
