"""The explorer's in-process search index (statetech.graph.search_index) gives exactly the answers of the Cypher
search it replaces (cypher.EXPLORE_SEARCH on the embedded store): on the seeds and on a generated graph of hostile
names (unicode case folding, shared names and aliases, ids such as __proto__), for many texts, kinds and limits; and
the explorer's /api/search answers from it once it is ready.

The index is for the embedded store only (Neo4j answers from its text index), so these tests need no server.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from statetech.graph import cypher, explore, search_index
from statetech.graph.api import Graph
from statetech.graph.model import Agency, Company, Person, RecordSet, Source
from statetech.graph.search_index import BackgroundSearchIndex, SearchIndex, start_search_index
from statetech.graph.store import GrafeoStore
from statetech.graph.vocabulary import search_text
from statetech.loaders.curated import load_files
from statetech.web.app import create_app

SEEDS = sorted((Path(__file__).parent.parent / "seeds").glob("*.yaml"))
KIND_CHOICES = (None, ["Agency"], ["Company"], ["Person"], ["Agency", "Person"], ["Company", "Agency"], ["Policy"])
LIMITS = (1, 3, 10)

# Names chosen to break a careless index: case folding beyond ASCII (dotted capital I, final sigma, sharp s, the
# title-case digraph), markup, right-to-left overrides, names that are prefixes of others, one name shared by
# several entities (ties broken by id), aliases equal to other entities' names or ids, and JavaScript-ish words.
HOSTILE_NAMES = [
    "İstanbul Port Authority", "istanbul port authority", "ΣΟΦΙΑ ΟΔΟΣ", "Σοφία", "Straße Systems", "STRASSE SYSTEMS",
    "ǅemal Holdings", "Ǆ Analytics", "<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>",
    "\u202eevil\u202c Corp", "__proto__", "constructor", "toString", "Proto", "proto", "a", "A", "Ab", "ab", "abc",
    "Abc Cloud", "Cloud", "cloud", "CLOUD", "Cloud Nine", "cloud nine", "Café Data", "CAFÉ DATA", "cafe data",
    "日本データ", "Ωmega", "ωmega", "x" * 300, "Zeta\tTab", "Same Name", "Same Name", "Same Name", "😀 Emoji Co",
    "K\u212a Kelvin", "ﬁnance ﬂow", "Ĳssel", "Ǉubljana",
]
HOSTILE_ALIASES = [
    [], ["ISTANBUL"], ["Cloud"], ["same name"], ["PROTO", "__proto__"], ["constructor"], ["Ab", "aB"], ["Σ"],
    ["agency:example"], ["İ"], ["ǆ", "ǅ"], ["x"], ["Cafe"], ["日本"], [], [],
]
SLUGS = ["__proto__", "constructor", "tostring", "proto", "a", "ab", "cloud", "same", "x", "0", "9-9", "a.b", "a_b"]
KINDS = (Agency, Company, Person)


def hostile_records(seed: int = 7) -> RecordSet:
    rng = random.Random(seed)
    source = Source(id="source:example-search", url="https://example.org/search", title="Example search fixture",
                    publisher="Example Gazette", published="2024-05-01")
    nodes = []
    used: set[str] = set()
    for i, name in enumerate(HOSTILE_NAMES * 3):
        cls = KINDS[i % len(KINDS)]
        slug = SLUGS[i % len(SLUGS)] if i < len(SLUGS) * 2 else f"example-{i}"
        if slug.startswith("_"):  # ids must start with a letter or digit: keep the word, e.g. agency:0__proto__
            slug = "0" + slug
        entity_id = f"{cls.PREFIX}:{slug}"
        if entity_id in used:
            entity_id = f"{cls.PREFIX}:{slug}-{i}"
        used.add(entity_id)
        aliases = HOSTILE_ALIASES[rng.randrange(len(HOSTILE_ALIASES))]
        nodes.append(cls(id=entity_id, name=name, aliases=aliases, sources=[source.id], confidence="reported"))
    return RecordSet(sources=[source], nodes=nodes, relationships=[])


def query_texts(store) -> list[str]:
    """Every one-character text from the names, every prefix and some inner pieces of every id, name and alias
    (lower-cased, as the explorer passes them), and texts that find nothing."""
    rows = store.run_read("MATCH (n:Entity) RETURN n.id AS id, n.name AS name, n.aliases AS aliases").rows
    texts: set[str] = {"zzzz-nothing", "agency:", "company:", ":", "-", "0", "i̇", "σ", "ss", "ß", "k", "ﬁ"}
    for row in rows:
        for value in (row["id"], row["name"], *(row["aliases"] or [])):
            folded = value.lower()
            texts.update(folded[:n] for n in range(1, min(len(folded), 12) + 1))
            texts.update(folded[n:n + 3] for n in range(0, min(len(folded), 12)))
            texts.add(folded)
            texts.update(folded)
    return sorted(t for t in texts if t.strip() and t == t.strip())


def assert_parity(store, index: SearchIndex, texts: list[str], limits: tuple[int, ...] = LIMITS) -> int:
    """Every text, kinds filter and limit: the index's rows equal the query's (order included). Returns how many
    comparisons found at least one row, so a test can show it compared something."""
    non_empty = 0
    for i, text in enumerate(texts):
        kinds = KIND_CHOICES[i % len(KIND_CHOICES)]
        for limit in limits:
            expected = store.run_read(cypher.EXPLORE_SEARCH, {"text": text, "limit": limit, "kinds": kinds}).rows
            got = index.search(text, limit=limit, kinds=kinds)
            # a text holding a newline (the index's separator) is left to the query: the caller runs it
            assert got == (None if "\n" in text else expected), (text, kinds, limit)
            non_empty += bool(expected)
        # and with every kind, at the explorer's biggest limit
        expected = store.run_read(cypher.EXPLORE_SEARCH, {"text": text, "limit": 100, "kinds": None}).rows
        assert index.search(text, limit=100, kinds=None) == (None if "\n" in text else expected), (text, None, 100)
    return non_empty


@pytest.fixture
def embedded(tmp_path) -> Graph:
    graph = Graph(GrafeoStore(tmp_path / "store.grafeo"))
    yield graph
    graph.close()


def test_index_matches_the_query_on_the_seeds(embedded):
    load_files(embedded, SEEDS)
    index = SearchIndex.from_store(embedded.store)
    texts = query_texts(embedded.store)
    assert index.size == len(embedded.store.run_read("MATCH (n:Entity) RETURN n.id AS id").rows) > 50
    assert len(texts) > 1000
    assert assert_parity(embedded.store, index, texts, limits=(3,)) > 1000
    # the seed case, through the library function the explorer calls
    embedded.search_index = index
    found = explore.search_entities(embedded, "ICE", limit=5)
    assert found[0] == {"id": "agency:ice", "kind": "Agency", "name": found[0]["name"], "aliases": found[0]["aliases"],
                        "exact": True}


@pytest.mark.parametrize("block_rows", [2048, 3])
def test_index_matches_the_query_on_hostile_names(embedded, monkeypatch, block_rows):
    """With blocks of 3 rows the "contains" filter skips blocks and stitches neighbouring ones together."""
    monkeypatch.setattr(search_index, "_BLOCK_ROWS", block_rows)
    embedded.load(hostile_records())
    index = SearchIndex.from_store(embedded.store)
    if block_rows == 3:
        agencies = index._kinds["Agency"]
        assert len(agencies.block_grams) == -(-len(agencies) // 3) > 10
    texts = query_texts(embedded.store)
    assert len(texts) > 500
    assert assert_parity(embedded.store, index, texts) > 500
    # spot checks of what parity covers: an exact alias ranks first, ties of one name are broken by id
    rows = index.search("same name", limit=100, kinds=None)
    assert [r["rank"] for r in rows][:3] == [0, 0, 0]
    same = [r["id"] for r in rows if r["name"] == "Same Name"]
    assert same == sorted(same) and len(same) == 9


def test_index_matches_the_query_on_raw_entities_the_models_would_refuse(embedded):
    """Entities written by other means (upper-case ids, a newline in a name, a name folded differently by Python
    and the engine) are still answered exactly, or left to the query."""
    embedded.load(hostile_records())
    raw = [("agency:UPPER-Case", "Mixed ID Agency", []), ("company:two-lines", "First line\nsecond line", ["a\nb"]),
           ("person:KELVIN", "\u212a", ["\u0130"])]
    with embedded.store.writing():
        for entity_id, name, aliases in raw:
            embedded.store.run_write(
                "CREATE (n:Entity {id: $id, kind: $kind, name: $name, aliases: $aliases, search_text: $search_text})",
                {"id": entity_id, "kind": entity_id.split(":")[0].capitalize(), "name": name, "aliases": aliases,
                 "search_text": search_text(entity_id, name, aliases)})
    index = SearchIndex.from_store(embedded.store)
    texts = query_texts(embedded.store) + ["upper", "UPPER", "agency:upper", "line\nsecond", "a\nb", "\n"]
    assert assert_parity(embedded.store, index, sorted(set(texts))) > 500
    # the query tests the id as written and its lower-cased copy in search_text: "upper" is only in the copy
    assert index.search("upper", limit=5, kinds=None) == []
    assert index.search("UPPER", limit=5, kinds=None) == []
    assert [r["id"] for r in index.search("agency:", limit=100, kinds=["Agency"])].count("agency:UPPER-Case") == 1
    # a text holding the index's separator is left to the query
    assert index.search("line\nsecond", limit=5, kinds=None) is None
    # an entity of a kind the model does not know would be missed by the index's reads: then it answers nothing
    with embedded.store.writing():
        embedded.store.run_write("CREATE (n:Entity {id: 'thing:odd', kind: 'Thing', name: 'Odd', search_text: $st})",
                                 {"st": search_text("thing:odd", "Odd")})
    unusable = SearchIndex.from_store(embedded.store)
    assert not unusable.usable and unusable.search("odd", limit=5, kinds=None) is None


def test_search_entities_falls_back_to_the_query_until_the_index_is_ready(embedded):
    load_files(embedded, SEEDS)
    calls = []

    class NotReady:
        def search(self, text, *, limit, kinds):
            calls.append(text)
            return None

    embedded.search_index = NotReady()
    assert explore.search_entities(embedded, "Azure", limit=3)[0]["id"] == "product:azure"
    assert calls == ["azure"]


def test_index_on_neo4j_is_not_started():
    class Store:
        backend = "neo4j"

    class FakeGraph:
        store = Store()

    graph = FakeGraph()
    assert start_search_index(graph) is None
    assert not hasattr(graph, "search_index")


def test_explorer_search_answers_from_the_index_once_ready(tmp_path):
    """The explorer's read-only graph gets the index the server starts; /api/search then answers from it (the
    store's query is not run) with the answers the query gave before."""
    path = tmp_path / "store.grafeo"
    with Graph(GrafeoStore(path)) as writer:
        load_files(writer, SEEDS)
    graph = Graph(GrafeoStore(path))  # opened read-only on first read, as `statetech serve` opens it
    try:
        app = create_app(graph)
        client = TestClient(app, raise_server_exceptions=False)
        before = {(q, k): client.get("/api/search", params={"q": q, "kinds": k}).json()
                  for q in ("ice", "Microsoft", "a", "azure") for k in ("", "company")}
        assert before[("ice", "")]["results"][0]["id"] == "agency:ice"

        background = start_search_index(app.state.graph)
        assert isinstance(background, BackgroundSearchIndex)
        assert background.wait(60) and background.error is None and background.index is not None
        assert background.index.size == len(graph.store.run_read("MATCH (n:Entity) RETURN n.id AS id").rows)

        store = app.state.graph.store
        queries = []
        original = store.run_read

        def counting(query, params=None):
            queries.append(query)
            return original(query, params)

        store.run_read = counting
        after = {(q, k): client.get("/api/search", params={"q": q, "kinds": k}).json()
                 for q in ("ice", "Microsoft", "a", "azure") for k in ("", "company")}
        assert after == before
        assert cypher.EXPLORE_SEARCH not in queries
        # a text the index leaves to the store still gets its answer from the query
        client.get("/api/search", params={"q": "ice\nx"})
        assert cypher.EXPLORE_SEARCH in queries
    finally:
        graph.close()
