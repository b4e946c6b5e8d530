"""records/unsourced and records/newest read provenance fields kept at write time (statetech.graph.provenance).

Every case compares the two queries' rows with a brute-force computation in Python over what the store holds (every
Source, entity and relationship read back whole), as the queries computed it at read time before: after curated
loads, a generated graph written in batches, imports citing sources that arrive later, a source whose date moves back,
relationships re-dated to older sources, import merges, curated records over imported ones, and hand edits followed
by a refresh. After each step a refresh must find nothing to change: what the writers keep is what a full recomputation
gives. A store without the fields (as an older statetech left it) is refused until it is refreshed.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.api import shipped_seeds_path
from statetech.graph.catalog import Catalog
from statetech.graph.errors import QueryError
from statetech.graph.model import Agency, Company, Contract, Product, RecordSet, Relationship, Source
from statetech.graph.provenance import UNDATED, derive
from statetech.graph.vocabulary import (
    AMOUNT_KEYS,
    AMOUNT_STEPS,
    SAMPLE_EVERY,
    amount_key_values,
    amount_keys,
    citation_text,
    citation_tokens,
)
from statetech.loaders.curated import load_curated, load_files

CATALOG = Catalog.load()
FIXTURES = Path(__file__).parent / "fixtures" / "curated"
NO_SOURCE = "(no source cited)"
LIMITS = (1, 3, 10, 50, 100_000)
SINCES = (None, "2015", "2021-06", "2024-02-29", "2030")


# --- the brute force ------------------------------------------------------------------------------------------------


def _stored(graph):
    dates = {r["id"]: r["published"]
             for r in graph.query("MATCH (s:Source) RETURN s.id AS id, s.published AS published")}
    entities = graph.query("MATCH (n:Entity) RETURN n.id AS id, n.kind AS kind, n.name AS name, "
                           "n.confidence AS confidence, n.sources AS sources, n.added AS added, "
                           "n.updated AS updated").rows
    rels = graph.query("MATCH (a:Entity)-[r]->(b:Entity) RETURN r.id AS id, type(r) AS kind, a.name AS a, "
                       "b.name AS b, r.confidence AS confidence, r.sources AS sources, r.added AS added, "
                       "r.updated AS updated").rows
    return dates, entities, rels


def _cited(sources, dates):
    """(missing ids sorted, whether any cited source exists, newest published among those that do)."""
    cited = list(sources or [])
    if not cited:
        return [NO_SOURCE], False, None
    missing = sorted(s for s in cited if s not in dates)
    present = [dates[s] for s in cited if s in dates]
    dated = [d for d in present if d is not None]
    return missing, bool(present), max(dated) if dated else None


def expected_unsourced(graph):
    dates, entities, rels = _stored(graph)
    rows = []
    for record, items in (("entity", entities), ("relationship", rels)):
        for item in items:
            missing, _, _ = _cited(item["sources"], dates)
            if missing:
                rows.append({"record": record, "id": item["id"], "kind": item["kind"], "missing_sources": missing})
    # ORDER BY record, id: a null id (a hand-drawn edge) sorts last
    return sorted(rows, key=lambda r: (r["record"], r["id"] is None, r["id"] or ""))


def expected_newest(graph, since, limit):
    dates, entities, rels = _stored(graph)
    rows = []
    for record, items in (("entity", entities), ("relationship", rels)):
        for item in items:
            _, found, newest = _cited(item["sources"], dates)
            if not found or (since is not None and (newest is None or newest < since)):
                continue
            description = item["name"] if record == "entity" else f"{item['a']} {item['kind']} {item['b']}"
            rows.append({"newest_source_date": newest, "record": record, "id": item["id"], "kind": item["kind"],
                         "description": description, "confidence": item["confidence"], "sources": item["sources"]})
    # newest first with a null date first (as both stores sort a null DESC), then record, then id (null last)
    rows.sort(key=lambda r: (r["record"], r["id"] is None, r["id"] or ""))
    rows.sort(key=lambda r: (r["newest_source_date"] is None, r["newest_source_date"] or ""), reverse=True)
    return rows[:limit]


def _history_rows(graph):
    """Every record with its curation days, as records/known-on and records/new-since list them."""
    _, entities, rels = _stored(graph)
    for record, items in (("entity", entities), ("relationship", rels)):
        for item in items:
            description = item["name"] if record == "entity" else f"{item['a']} {item['kind']} {item['b']}"
            yield {"added": item["added"], "updated": item["updated"], "record": record, "id": item["id"],
                   "kind": item["kind"], "description": description, "confidence": item["confidence"],
                   "sources": item["sources"]}


def expected_known_on(graph, date, limit):
    rows = [r for r in _history_rows(graph) if r["added"] is not None and r["added"][:len(date)] <= date]
    # a null id (a hand-drawn edge) sorts last
    return sorted(rows, key=lambda r: (r["added"], r["record"], r["id"] is None, r["id"] or ""))[:limit]


def expected_new_since(graph, since, limit):
    def later(day):
        return day is not None and day[:len(since)] > since

    rows = []
    for r in _history_rows(graph):
        if later(r["added"]) or later(r["updated"]):
            changed = r["updated"] if r["updated"] and (r["added"] is None or r["updated"] > r["added"]) else r["added"]
            rows.append({"changed": changed, "change": "added" if later(r["added"]) else "updated", **r})
    rows.sort(key=lambda r: (r["record"], r["id"] is None, r["id"] or ""))
    rows.sort(key=lambda r: r["changed"], reverse=True)
    return rows[:limit]


def expected_largest(graph, limit, award_type=None, since=None):
    """contracts/largest's (contract, amount) rows: every contract with an amount, sorted in Python."""
    rows = graph.query("MATCH (c:Contract) WHERE c.obligated_usd IS NOT NULL RETURN c.id AS id, "
                       "c.obligated_usd AS amount, c.award_type AS award_type, c.start_date AS start").rows
    rows = [r for r in rows if (award_type is None or r["award_type"] == award_type)
            and (since is None or (r["start"] is not None and r["start"] >= since))]
    rows.sort(key=lambda r: (-r["amount"], r["id"]))
    return [(r["id"], r["amount"]) for r in rows[:limit]]


def assert_largest(graph):
    """contracts/largest, whose embedded form walks the amount keys kept at write time, against the brute force."""
    for limit in (1, 2, 5, 17, 100_000):
        for award_type in (None, "idv", "ota"):
            for since in (None, "2016-01-01", "2030-01-01"):
                params = {"limit": str(limit), **({"award_type": award_type} if award_type else {}),
                          **({"since": since} if since else {})}
                rows = CATALOG.run(graph, "contracts/largest", params).rows
                assert ([(r["contract"], r["obligated_usd"]) for r in rows]
                        == expected_largest(graph, limit, award_type, since)), params


def _support_key(row):
    return (row["record"], row["id"] is None, row["id"] or "", row["kind"], row["description"] or "")


def expected_supports(graph, source_id):
    """sources/supports's rows for one source id: every entity and relationship whose sources hold it."""
    _, entities, rels = _stored(graph)
    rows = [{"source": source_id, "record": "entity", "id": n["id"], "kind": n["kind"], "description": n["name"],
             "confidence": n["confidence"]} for n in entities if source_id in (n["sources"] or [])]
    rows += [{"source": source_id, "record": "relationship", "id": r["id"], "kind": r["kind"],
              "description": f"{r['a']} {r['kind']} {r['b']}", "confidence": r["confidence"]}
             for r in rels if source_id in (r["sources"] or [])]
    return sorted(rows, key=_support_key)


def assert_supports(graph):
    """sources/supports, whose embedded form finds its candidates through the citation tokens kept at write time,
    against the brute force, for every Source by id and for one by its URL."""
    sources = graph.query("MATCH (s:Source) RETURN s.id AS id, s.url AS url ORDER BY id").rows
    for source in sources:
        rows = CATALOG.run(graph, "sources/supports", {"source": source["id"]}).rows
        assert sorted(rows, key=_support_key) == expected_supports(graph, source["id"]), source["id"]
    if sources:
        by_url = [s for s in sources if s["url"] == sources[-1]["url"]]
        rows = CATALOG.run(graph, "sources/supports", {"source": sources[-1]["url"]}).rows
        assert sorted(rows, key=_support_key) == sorted((r for s in by_url for r in expected_supports(graph, s["id"])),
                                                        key=_support_key)
    assert CATALOG.run(graph, "sources/supports", {"source": "source:never-0"}).rows == []


def assert_citation_words(graph):
    """out_cited on the embedded store: the words of every source its outgoing relationships cite (what
    sources/supports finds them through); Neo4j keeps none (GraphStore.keeps_citation_words)."""
    rows = graph.query("MATCH (n:Entity) OPTIONAL MATCH (n)-[r]->(:Entity) "
                       "RETURN n.id AS id, n.out_cited AS stored, collect(r.sources) AS cited").rows
    assert rows
    keeps = graph.store.keeps_citation_words
    assert keeps == (graph.store.backend == "embedded")
    for row in rows:
        wanted = citation_text(citation_tokens([s for sources in row["cited"] for s in sources or ()]))
        assert row["stored"] == (wanted if keeps else None), row["id"]
    if keeps:  # the check above compared something
        assert any(row["stored"] for row in rows)


def assert_exact(graph):
    assert CATALOG.run(graph, "records/unsourced").rows == expected_unsourced(graph)
    assert_largest(graph)
    assert_supports(graph)
    assert_citation_words(graph)
    for since in SINCES:
        for limit in LIMITS:
            params = {"limit": str(limit), **({"since": since} if since else {})}
            assert CATALOG.run(graph, "records/newest", params).rows == expected_newest(graph, since, limit), params
    # the curation days, which the embedded store finds through the history flags kept at write time
    for day in ("2024", "2025-03", "2025-06-15", "2030"):
        for limit in (1, 7, 100_000):
            assert (CATALOG.run(graph, "records/known-on", {"date": day, "limit": str(limit)}).rows
                    == expected_known_on(graph, day, limit)), (day, limit)
            assert (CATALOG.run(graph, "records/new-since", {"since": day, "limit": str(limit)}).rows
                    == expected_new_since(graph, day, limit)), (day, limit)
    # what the writers kept is what a full recomputation gives: a refresh finds nothing to change
    done = graph.refresh_provenance()
    assert (done.entities, done.relationships, done.markers, done.contracts) == (0, 0, 0, 0)


# --- records ----------------------------------------------------------------------------------------------------------


def _source(slug, published):
    return Source(id=f"source:{slug}", url=f"https://example.org/{slug}", title=f"Document {slug}",
                  publisher="Example", published=published)


def generated(n_entities=240, n_relationships=700, seed=3, imported_from=None):
    """A graph with sources of full, partial and no dates, and records citing sources that are not among them."""
    rng = random.Random(seed)
    days = random.Random(seed + 100)  # curation days from a generator of their own: the rest stays as it was
    money = random.Random(seed + 200)  # so are the contracts' amounts

    def amounts():
        """Obligated amounts over the whole range: none, negative, zero, below 1, ties, one step apart, huge."""
        choice = money.random()
        if choice < 0.1:
            return {}
        amount = money.choice([-2_500.0, 0.0, 0.25, 1.0, 64.0, 65.0, 1_000_000.0, 1_015_625.0, 2.0 ** 64, 3e20,
                               float(money.randint(-10, 10)), float(money.randint(1, 10**6)),
                               float(money.randint(1, 5 * 10**9))])
        return {"obligated_usd": amount, "award_type": money.choice(["idv", "task_order", "ota"]),
                "start_date": f"{money.randint(2010, 2025)}-{money.randint(1, 12):02d}-01"}

    def history():
        """added / updated days on about half the records (the curated ones of a real graph), some updated later."""
        if days.random() < 0.5:
            return {}
        added = f"202{days.randint(4, 6)}-{days.randint(1, 12):02d}-{days.randint(1, 28):02d}"
        return {"added": added, **({"updated": "2026-11-30"} if days.random() < 0.3 else {})}

    sources = [_source(f"gen-{i}", rng.choice([None, f"{rng.randint(2010, 2026)}",
                                               f"{rng.randint(2010, 2026)}-{rng.randint(1, 12):02d}",
                                               f"{rng.randint(2010, 2026)}-{rng.randint(1, 12):02d}-"
                                               f"{rng.randint(1, 28):02d}"]))
               for i in range(60)]
    # ids holding every character a source id may have besides letters and digits, and the 'z' their tokens escape
    sources += [_source(slug, "2020-01-01") for slug in ("z.z_z-9", "zz-z", "a.b_c-d", "a-b.c_d", "zc")]
    cite = [s.id for s in sources] + [f"source:never-{i}" for i in range(8)]  # the last ones are never written
    kinds = ((Agency, "agency"), (Contract, "contract"), (Company, "company"), (Product, "product"))
    ids = {prefix: [] for _, prefix in kinds}
    nodes = []
    for i in range(n_entities):
        cls, prefix = kinds[i % 4]
        node_id = f"{prefix}:gen-{i}"
        ids[prefix].append(node_id)
        nodes.append(cls(id=node_id, name=f"Generated {i}", sources=rng.sample(cite, rng.randint(1, 3)),
                         confidence="reported", imported_from=imported_from, **history(),
                         **(amounts() if cls is Contract else {})))
    patterns = (("agency", "AWARDED", "contract"), ("contract", "AWARDED_TO", "company"),
                ("company", "PROVIDES", "product"), ("agency", "USES", "product"))
    rels = []
    for i in range(n_relationships):
        a, t, b = patterns[i % 4]
        # a hub: the first agency awards a third of the contracts
        start = ids[a][0] if a == "agency" and i % 3 == 0 else rng.choice(ids[a])
        rels.append(Relationship(id=f"rel:gen-{i}", **{"from": start, "to": rng.choice(ids[b])}, type=t,
                                 sources=rng.sample(cite, rng.randint(1, 2)), confidence="reported",
                                 imported_from=imported_from, **history()))
    return RecordSet(sources=sources, nodes=nodes, relationships=rels)


# --- the derivation itself ------------------------------------------------------------------------------------------


def test_amount_keys_never_decrease_as_the_amount_grows():
    """contracts/largest's embedded form is exact only if a larger key always means a larger amount."""
    rng = random.Random(5)
    amounts = [-1e12, -1.0, 0.0, 0.5, 1.0, 2.0 ** 64, 3e20, 1.7e308]
    for _ in range(4000):
        amount = rng.choice([rng.uniform(0, 4), rng.uniform(0, 5e9), 2.0 ** rng.randint(0, 70) * rng.uniform(0.5, 2)])
        amounts += [amount, math.nextafter(amount, math.inf), math.nextafter(amount, -math.inf)]
    for k in range(70):  # both sides of every octave and step boundary
        for j in range(AMOUNT_STEPS + 1):
            edge = 2.0 ** k * (1 + j / AMOUNT_STEPS)
            amounts += [edge, math.nextafter(edge, -math.inf)]
    ordered = sorted(amounts)
    keys = [amount_keys(a) for a in ordered]
    assert keys == sorted(keys)
    for (octave, rank), amount in zip(keys, ordered):
        assert rank // AMOUNT_STEPS == octave and -1 <= octave <= 64
    assert amount_keys(1.0) == (0, 0) and amount_keys(1.5) == (0, 32) and amount_keys(1e6) == (19, 1274)
    assert amount_keys(0.99) == amount_keys(-5) == (-1, -64) and amount_keys(2.0 ** 64) == amount_keys(1e300)
    # one contract in about 64 also carries them as sample keys, chosen by its id alone
    ids = [f"contract:c-{i}" for i in range(64_000)]
    sampled = [i for i in ids if amount_key_values(i, 5.0)["obligated_sample_rank"] is not None]
    assert 800 < len(sampled) < 1200 and len(sampled) == sum(amount_key_values(i, -3.0)["obligated_sample_octave"]
                                                            is not None for i in ids)
    assert amount_key_values(sampled[0], 1e6) == dict(zip(AMOUNT_KEYS, (19, 1274, 19, 1274)))
    assert amount_key_values(sampled[0], None) == dict.fromkeys(AMOUNT_KEYS)


def test_largest_contracts_over_many_amounts(graph):
    """Enough contracts for the embedded form's sample walk to stop well above the bottom, under octaves that hold
    contracts: amounts spread over 41 octaves, crowded into a few ranks, tied, and some contracts without one."""
    rng = random.Random(21)
    contracts = []
    for i in range(SAMPLE_EVERY * 150):
        shape = i % 4
        amount = (round(2.0 ** rng.uniform(-1, 40), 2) if shape == 0 else 1_000_000.0 + rng.randint(0, 15_000)
                  if shape == 1 else float(rng.choice([5e6, 5e6, 7.5e6, 2.0 ** 30])) if shape == 2 else None)
        contracts.append(Contract(id=f"contract:many-{i}", name=f"Contract {i}", sources=["source:many"],
                                  confidence="reported", obligated_usd=amount,
                                  award_type=rng.choice(["idv", "task_order", "ota"]),
                                  start_date=f"{rng.randint(2010, 2025)}-01-01"))
    graph.load(RecordSet(sources=[_source("many", "2024-01-01")], nodes=contracts), single_transaction=False)
    for limit in (1, 5, 25, 64, 300, 5000):
        for award_type in (None, "ota"):
            for since in (None, "2024-01-01"):
                params = {"limit": str(limit), **({"award_type": award_type} if award_type else {}),
                          **({"since": since} if since else {})}
                rows = CATALOG.run(graph, "contracts/largest", params).rows
                assert ([(r["contract"], r["obligated_usd"]) for r in rows]
                        == expected_largest(graph, limit, award_type, since)), params


def test_derive_matches_the_read_time_rules():
    dates = {"a": "2020", "b": "2021-05", "c": None}
    assert derive([], dates) == (None, [NO_SOURCE])
    assert derive(["a", "b"], dates) == ("2021-05", None)
    assert derive(["x", "a", "x"], dates) == ("2020", ["x", "x"])  # a missing id cited twice is listed twice
    assert derive(["c"], dates) == (UNDATED, None)
    assert derive(["c", "a"], dates) == ("2020", None)
    assert derive(["y", "x"], dates) == (None, ["x", "y"])


# --- both stores ------------------------------------------------------------------------------------------------------


def test_seeds_and_fixtures(graph):
    assert CATALOG.run(graph, "records/unsourced").rows == []  # an empty store answers, refusing nothing
    assert CATALOG.run(graph, "records/newest").rows == []
    load_files(graph, [shipped_seeds_path()])
    load_files(graph, [FIXTURES / "small.yaml", FIXTURES / "rich.yaml"])
    assert_exact(graph)


def test_generated_graph_in_batches_then_sources_arrive_and_change(graph):
    records = generated()
    late = records.sources[40:]  # cited from the start, written only later
    first = RecordSet(sources=records.sources[:40], nodes=records.nodes, relationships=records.relationships)
    graph.load(first, batch_size=97, single_transaction=False)  # a first load: summaries computed before writing
    assert expected_unsourced(graph)  # something to find
    assert_exact(graph)

    # the late sources complete the records flagged missing them
    graph.load(RecordSet(sources=late), single_transaction=True)
    assert_exact(graph)

    # a source re-dated to an older date: every record citing it, and every start node summarising one, goes down
    newest = max((s for s in records.sources if s.published), key=lambda s: s.published)
    graph.load(RecordSet(sources=[newest.model_copy(update={"published": "2001"})]), single_transaction=False)
    assert_exact(graph)
    # ...and to no date at all
    graph.load(RecordSet(sources=[newest.model_copy(update={"published": None})]), single_transaction=True)
    assert_exact(graph)

    # relationships re-cited to the oldest source (their newest date goes down), by a batched curated load
    oldest = min((s for s in records.sources if s.published), key=lambda s: s.published)
    redated = [r.model_copy(update={"sources": [oldest.id]}) for r in records.relationships[::5]]
    graph.load(RecordSet(relationships=redated), batch_size=50, single_transaction=False)
    assert_exact(graph)
    # and some of them to a source that is not in the graph, in one transaction
    graph.load(RecordSet(relationships=[r.model_copy(update={"sources": ["source:never-9"]})
                                        for r in records.relationships[:40]]), single_transaction=True)
    assert_exact(graph)
    # entities replaced by a curated load keep their relationships' summary
    graph.load(RecordSet(nodes=records.nodes[:30]), single_transaction=True)
    graph.load(RecordSet(nodes=records.nodes[30:60]), batch_size=7, single_transaction=False)
    assert_exact(graph)

def test_newest_when_the_newest_sources_back_few_records(graph):
    """The embedded form looks up the $limit newest Source dates first; when those back fewer than $limit records (new
    sources nobody cites yet, or cited only beside a newer one) it must fall back to the full walk, not cut rows."""
    records = generated()
    uncited = [_source(f"uncited-{i}", f"2031-{1 + i % 12:02d}-{1 + i:02d}") for i in range(25)]
    # two records cite one of the uncited dates, so the lookups find a few rows, never enough for limit 10
    late = [records.nodes[0].model_copy(update={"sources": [uncited[3].id]}),
            records.relationships[0].model_copy(update={"sources": [uncited[5].id, records.sources[0].id]})]
    graph.load(RecordSet(sources=records.sources + uncited, nodes=records.nodes, relationships=records.relationships),
               single_transaction=True)
    graph.load(RecordSet(nodes=late[:1], relationships=late[1:]), single_transaction=True)
    assert_exact(graph)
    for limit in (2, 10, 30):
        rows = CATALOG.run(graph, "records/newest", {"limit": str(limit)}).rows
        assert len(rows) == limit and rows == expected_newest(graph, None, limit)



@pytest.mark.parametrize("dates_kept", [None, 5])
def test_imports_sources_arriving_later_merges_and_curated_over_imports(graph, monkeypatch, dates_kept):
    """``dates_kept``: the writer forgets the source dates it holds whenever there are more than this many (5:
    before nearly every batch) and reads them back from the store; the fields must come out the same."""
    held = []  # how many dates the writer held before and after each bound
    if dates_kept is not None:
        from statetech.graph import writer
        from statetech.graph.provenance import SourceDates

        original = SourceDates.bound

        def bound(self, kept):
            before = len(self)
            original(self, kept)
            held.append((before, len(self)))

        monkeypatch.setattr(writer, "SOURCE_DATES_KEPT", dates_kept)
        monkeypatch.setattr(SourceDates, "bound", bound)
    records = generated(imported_from="test:import")
    sources = {s.id: s for s in records.sources}
    # an import streams rows: each row's records with a source that may only come in a later row
    rows = []
    for i, node in enumerate(records.nodes):
        rows.append(RecordSet(nodes=[node], sources=[sources[s] for s in node.sources if s in sources and i % 2]))
    for i, rel in enumerate(records.relationships):
        rows.append(RecordSet(relationships=[rel], sources=[sources[s] for s in rel.sources if s in sources]
                              if i % 3 == 0 else []))
    rows.append(RecordSet(sources=records.sources))
    graph.import_(iter(rows), batch_size=64)
    assert_exact(graph)
    if dates_kept is not None:
        assert max(after for _, after in held) <= dates_kept
        assert sum(before > dates_kept for before, _ in held) > 10  # the dates were forgotten again and again

    # a re-import citing other sources (merged into the stored records)
    rng = random.Random(11)
    recited = [r.model_copy(update={"sources": [rng.choice(list(sources))]}) for r in records.relationships[::3]]
    graph.import_(iter([RecordSet(relationships=recited[:100]), RecordSet(relationships=recited[100:])]),
                  batch_size=40)
    assert_exact(graph)

    # a merged row without sources keeps the stored list, and the fields stay those of the stored list
    bare_nodes = [type(n).model_construct(**{**n.__dict__, "sources": [], "notes": "merged"})
                  for n in records.nodes[:20]]
    bare_rels = [Relationship.model_construct(**{**r.__dict__, "sources": [], "notes": "merged"})
                 for r in records.relationships[:20]]
    graph.import_(iter([RecordSet(nodes=bare_nodes, relationships=bare_rels)]), batch_size=15)
    # merged contracts with new amounts (their keys follow), and without one (the stored amount and keys stay)
    contracts = [n for n in records.nodes if isinstance(n, Contract)]
    rng = random.Random(12)
    moved = [n.model_copy(update={"obligated_usd": rng.choice([9e12, -1.0, 0.5, float(rng.randint(1, 10**7))])})
             for n in contracts[::4]]
    unpriced = [Contract.model_construct(**{**n.__dict__, "obligated_usd": None, "notes": "no amount"})
                for n in contracts[1::4]]
    graph.import_(iter([RecordSet(nodes=moved), RecordSet(nodes=unpriced)]), batch_size=7)
    kept = [n for n in contracts[1::4] if n.obligated_usd is not None][0]
    assert graph.query("MATCH (c:Entity {id: $id}) RETURN c.obligated_usd AS amount",
                       {"id": kept.id}).rows == [{"amount": kept.obligated_usd}]
    stored = graph.query("MATCH (n:Entity {id: $id}) RETURN n.sources AS s, n.notes AS notes",
                         {"id": records.nodes[0].id}).rows
    assert stored == [{"s": records.nodes[0].sources, "notes": "merged"}]
    assert_exact(graph)

    # curated records over the imported ones (replacing them, with sources written in the same load)
    curated = [n.model_copy(update={"imported_from": None, "sources": ["source:curated-new"]})
               for n in records.nodes[:10]]
    curated_rels = [r.model_copy(update={"imported_from": None, "sources": ["source:gen-1"]})
                    for r in records.relationships[:30]]
    graph.load(RecordSet(sources=[_source("curated-new", "2026-11-30")], nodes=curated, relationships=curated_rels),
               single_transaction=True)
    assert_exact(graph)


def test_hand_edits_are_seen_after_a_refresh(graph):
    graph.load(generated(n_entities=40, n_relationships=90), single_transaction=True)
    graph.query("MATCH (n:Entity {id: 'agency:gen-0'}) SET n.sources = []", write=True)
    graph.query("MATCH (n:Entity {id: 'contract:gen-1'}) SET n.sources = ['source:hand-missing']", write=True)
    graph.query("MATCH (s:Source {id: 'source:gen-2'}) SET s.published = '2099-01-01'", write=True)
    graph.query("MATCH (a:Entity {id: 'agency:gen-4'}) MATCH (b:Entity {id: 'product:gen-3'}) "
                "CREATE (a)-[:USES {confidence: 'reported', sources: ['source:gen-5'], added: '2025-04-01'}]->(b)",
                write=True)
    # curation days written by hand: the history flags follow only after the refresh
    graph.query("MATCH (n:Entity) WHERE n.added IS NULL AND n.updated IS NULL WITH n ORDER BY n.id LIMIT 2 "
                "SET n.updated = '2026-12-01'", write=True)
    graph.query("MATCH (n:Entity) WHERE n.added IS NOT NULL WITH n ORDER BY n.id LIMIT 1 "
                "REMOVE n.added, n.updated", write=True)
    graph.query("MATCH (a:Entity {id: 'agency:gen-8'}) MATCH (b:Entity {id: 'product:gen-7'}) "
                "CREATE (a)-[:USES {confidence: 'reported'}]->(b)", write=True)
    # citations written by hand (sources/supports finds them on the embedded store only after the refresh): a source
    # added to an entity, and ids only a hand edit can write, one differing from a real id only in case (its token is
    # the same word to the full-text index: the query must still leave it out)
    graph.query("MATCH (n:Entity {id: 'company:gen-2'}) SET n.sources = n.sources + ['source:gen-11']", write=True)
    graph.query("MATCH (n:Entity {id: 'product:gen-3'}) SET n.sources = ['SOURCE:GEN-12']", write=True)
    graph.query("MATCH (a:Entity {id: 'agency:gen-0'})-[r]->() WITH r ORDER BY r.id LIMIT 1 "
                "SET r.sources = r.sources + ['source:gen-13', 'SOURCE:GEN-13']", write=True)
    # citation words an earlier statetech stored on Neo4j (or a hand edit anywhere): a refresh puts the embedded
    # store's right and removes Neo4j's
    graph.query("MATCH (n:Entity {id: 'agency:gen-4'}) SET n.out_cited = 'stcsourcezcstale'", write=True)
    # amounts written by hand (their keys follow only after the refresh): one removed, the largest raised (its keys
    # may not move: every amount from 2**64 up has the top keys), the smallest made the second largest
    graph.query("MATCH (c:Contract) WHERE c.obligated_usd IS NOT NULL WITH c ORDER BY c.id LIMIT 1 "
                "REMOVE c.obligated_usd", write=True)
    graph.query("MATCH (c:Contract) WHERE c.obligated_usd IS NOT NULL WITH c ORDER BY c.obligated_usd DESC LIMIT 1 "
                "SET c.obligated_usd = 1e30", write=True)
    graph.query("MATCH (c:Contract) WHERE c.obligated_usd IS NOT NULL WITH c ORDER BY c.obligated_usd LIMIT 1 "
                "SET c.obligated_usd = 7e21", write=True)
    before = CATALOG.run(graph, "records/unsourced").rows
    assert before != expected_unsourced(graph)  # not seen yet: the fields are kept by statetech's writes
    done = graph.refresh_provenance()
    assert done.entities >= 2 and done.relationships >= 1 and done.contracts >= 2
    assert_exact(graph)
    top = CATALOG.run(graph, "contracts/largest", {"limit": "2"}).rows
    assert [r["obligated_usd"] for r in top] == [1e30, 7e21]
    ids = [r["id"] for r in CATALOG.run(graph, "records/unsourced").rows]
    assert "agency:gen-0" in ids and "contract:gen-1" in ids and None in ids
    assert "company:gen-2" in {r["id"] for r in CATALOG.run(graph, "sources/supports",
                                                           {"source": "source:gen-11"}).rows}
    assert "product:gen-3" not in {r["id"] for r in CATALOG.run(graph, "sources/supports",
                                                               {"source": "source:gen-12"}).rows}


def test_a_store_without_the_fields_is_refused_until_refreshed(graph, backend, tmp_path):
    graph.load(generated(n_entities=40, n_relationships=90), single_transaction=True)
    # what an older statetech left: no format marker, no provenance fields
    graph.query("MATCH (m:StatetechFormat) DELETE m", write=True)
    for name in ("newest_source", "missing_sources", "out_newest", "out_undated", "out_missing_sources",
                 "has_history", "out_history", "obligated_octave", "obligated_rank", "cited", "out_cited"):
        graph.query(f"MATCH (n:Entity) REMOVE n.{name}", write=True)
        graph.query(f"MATCH ()-[r]->() REMOVE r.{name}", write=True)
    # a write by this statetech into such a store keeps its own records right, but cannot vouch for the others
    graph.load(RecordSet(sources=[_source("later", "2025-01-01")]), single_transaction=True)
    for name, params in (("records/unsourced", {}), ("records/newest", {}), ("records/known-on", {"date": "2030"}),
                         ("records/new-since", {"since": "2001"}), ("contracts/largest", {}),
                         ("sources/supports", {"source": "source:gen-1"})):
        with pytest.raises(QueryError) as err:
            CATALOG.run(graph, name, params)
        assert "lacks the derived fields this query reads" in str(err.value)
        assert "run 'statetech db refresh' once" in str(err.value)
    # other queries are not affected
    assert CATALOG.run(graph, "records/alleged").rows is not None
    if backend == "embedded":
        where = ["--db", str(graph.store.path)]
        graph.close()
        runner = CliRunner()
        refused = runner.invoke(cli, [*where, "query", "run", "records/unsourced"])
        assert refused.exit_code == 1 and "statetech db refresh" in refused.output
        assert "Traceback" not in refused.output
        done = runner.invoke(cli, [*where, "db", "refresh"])
        assert done.exit_code == 0, done.output
        assert done.output.startswith("refreshed embedded store at ")
        again = runner.invoke(cli, [*where, "db", "refresh"])
        assert ("updated 0 entities, 0 relationships, 0 relationship summaries, 0 vendor agency counts and "
                "0 contract amount keys" in again.output)
    else:
        graph.refresh_provenance()
    assert_exact(graph)


def test_a_relationship_losing_its_start_nodes_newest_date(graph):
    """The summary on a start node is exact: when its newest relationship is re-dated older, the next one counts."""
    records = RecordSet(
        sources=[_source("old", "2011-01-01"), _source("mid", "2015-01-01"), _source("new", "2020-01-01")],
        nodes=[Agency(id="agency:a", name="A", sources=["source:old"], confidence="reported"),
               Product(id="product:p", name="P", sources=["source:old"], confidence="reported"),
               Product(id="product:q", name="Q", sources=["source:old"], confidence="reported")],
        relationships=[Relationship(**{"from": "agency:a", "to": "product:p"}, type="USES",
                                    sources=["source:new"], confidence="reported"),
                       Relationship(**{"from": "agency:a", "to": "product:q"}, type="USES",
                                    sources=["source:mid"], confidence="reported")])
    graph.load(records, single_transaction=False)
    summary = "MATCH (n:Entity {id: 'agency:a'}) RETURN n.out_newest AS d"
    assert graph.query(summary).rows == [{"d": "2020-01-01"}]
    older = records.relationships[0].model_copy(update={"sources": ["source:old"]})
    graph.load(RecordSet(relationships=[older]), single_transaction=False)
    assert graph.query(summary).rows == [{"d": "2015-01-01"}]
    assert [r["id"] for r in CATALOG.run(graph, "records/newest", {"limit": "1", "since": "2012"}).rows] == [
        "rel:agency:a>USES>product:q"]
    assert_exact(graph)


def test_bulk_import_files_carry_the_fields(tmp_path):
    """The bulk path computes the same fields as the writer (test_bulk_import compares the stored graphs)."""
    from statetech.graph.bulk import write_import_files

    records = load_curated([FIXTURES / "small.yaml", FIXTURES / "rich.yaml"])
    files = write_import_files(records, tmp_path / "bulk")
    headers = {path.name: path.read_text(encoding="utf-8").splitlines()[0] for path in files.node_files}
    assert any("newest_source:string" in h and "out_newest:string" in h for h in headers.values())
    assert "StatetechFormat" in files.schema_file.read_text(encoding="utf-8")


def test_citation_tokens_are_one_word_per_id_and_the_same_in_cypher(graph):
    """Each source id is one token (no two ids share one), Python and Cypher write the same token, and what is not a
    string (a hand edit) has none."""
    from statetech.graph.cypher import citation_token_expression
    from statetech.graph.vocabulary import CITATION_PREFIX, citation_token

    ids = ["source:a", "source:z", "source:zz", "source:z.z_z-9", "source:zc", "source:a-b", "source:a.b", "source:a_b",
           "source:ab", "source:zh", "source:a-zh"]
    tokens = [citation_token(i) for i in ids]
    assert len(set(tokens)) == len(ids)
    assert all(t.startswith(CITATION_PREFIX) and t.isalnum() for t in tokens)
    rows = graph.query(f"UNWIND $ids AS sid RETURN {citation_token_expression('sid')} AS token", {"ids": ids}).rows
    assert [r["token"] for r in rows] == tokens
    assert citation_tokens(["source:b", 7, None, "source:a", "source:b"]) == {citation_token("source:a"),
                                                                             citation_token("source:b")}
    assert citation_text(set()) is None
    assert citation_text({"stcb", "stca"}) == "stca stcb"
