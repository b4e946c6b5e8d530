"""Entity resolution: land imported names and identifiers on the nodes already in the graph.

Order of evidence, strongest first, and each match records which one it used (``from_match`` / ``to_match`` on the
imported relationship):

1. identifiers: UEI, DUNS, CIK, agency codes, then dataset ids kept in ``external_ids`` (``ftm:...``,
   ``littlesis:...``, ``ori:...``);
2. the exact name or an alias (case-insensitive) of a node of the same kind;
3. the normalised name: legal-form noise (CORPORATION, CORP., INC, LLC, ...), punctuation, '&' and case removed, so
   "MICROSOFT CORPORATION" lands on "Microsoft Corporation" and "Amazon Web Services, Inc." on "Amazon Web Services".

A name match is refused when both sides carry the same kind of identifier with different values (two legal entities
with one name). When nothing matches, the importer's own node (an id derived from the upstream record) is used and
method ``imported`` is recorded; re-importing finds that node again and records ``imported`` again, so a re-import
writes identical relationships.

Uncertain cases never merge silently: an ambiguous match (two curated candidates), a name match refused because of
conflicting identifiers, and near misses against curated nodes (one name starting with the other, e.g. "PALANTIR
USG INC" vs "Palantir", or a close spelling) keep the imported node separate and go to the review file, where a
curator can add an alias or identifier to the seeds and re-import.

Memory: the maps hold the resolvable kinds (agencies, companies, people, products) of the store plus the nodes this
import creates: they grow with distinct entities, never with rows.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from statetech.graph.errors import did_you_mean

RESOLVABLE_KINDS = ("Agency", "Company", "Person", "Product")

# Identifier schemes with their own node fields; any other scheme lives in external_ids as "scheme:value".
FIELD_SCHEMES = ("uei", "duns", "cik", "agency_code")
METHOD_BY_SCHEME = {"uei": "uei", "duns": "duns", "cik": "cik", "agency_code": "agency_code"}

# Legal-form words dropped from the end of company names (repeatedly: "FOO HOLDINGS CO., LTD." -> "foo holdings").
LEGAL_SUFFIXES = frozenset(
    "inc incorporated corp corporation co company llc ltd limited lp llp plc pbc pc gmbh ag sa nv bv se ab oy".split()
)
_PUNCT = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    if text.isascii():  # NFKD leaves ASCII as it is and it has no combining marks: most names, much faster
        return text.casefold()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65_536)
def exact_key(name: str) -> str:
    """Case and spacing folded, nothing else: the key for exact name and alias matches."""
    return _SPACES.sub(" ", _fold(name)).strip()


# Cached: resolving one new name asks for its key four or five times (exact, normalised, near misses, indexing).
@lru_cache(maxsize=65_536)
def normalise_name(name: str, kind: str = "Company") -> str:
    """The comparison key for a name once legal-name noise is removed (see the module docstring)."""
    text = _fold(name)
    text = re.split(r"\b(?:d/b/a|dba|doing business as)\b", text)[0]
    # Periods and apostrophes vanish ("U.S." -> "us", "L.L.C." -> "llc", "Macy's" -> "macys"); other punctuation
    # separates words. Both sides of a comparison go through the same steps, so "Amazon.com" meets "amazoncom".
    text = text.replace("&", " and ").replace(".", "").replace("'", "").replace("\u2019", "")
    words = _PUNCT.sub(" ", text).split()
    if words and words[0] == "the":
        words = words[1:]
    if kind in ("Company", "Product"):
        while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
            words.pop()
    if kind == "Agency":
        if words[:2] == ["united", "states"] and len(words) > 2:
            words = words[2:]
        elif words[:1] == ["us"] and len(words) > 1:
            words = words[1:]
    return " ".join(words)


# Words that name a kind of organisation rather than one organisation: a name or alias made of one of these alone
# (or only of legal forms, like "Inc." split off "Babel Street, Inc.") would match every record that carries it.
GENERIC_WORDS = frozenset(
    "agency department dept office bureau division unit administration ministry government company firm business "
    "group holdings holding services service systems system solutions technologies technology tech partners "
    "international global enterprises enterprise industries associates consulting contractor contractors vendor "
    "vendors organization organisation corporate police sheriff".split()
)


@lru_cache(maxsize=65_536)  # asked twice of every new name (matching, then indexing)
def generic_name(text: str) -> str | None:
    """Why ``text`` cannot identify one organisation (only a legal form, one generic word, no letters), else None."""
    folded = _fold(text).replace(".", "").replace("'", "").replace("\u2019", "").replace("&", " ")
    words = [w for w in _PUNCT.sub(" ", folded).split() if w not in ("the", "and", "of")]
    if not words:
        return "has no letters or digits"
    if all(w in LEGAL_SUFFIXES for w in words):
        return "is only a legal form (Inc., LLC, Corp, ...)"
    if len(words) == 1 and words[0] in GENERIC_WORDS:
        return "is a generic word, not a name"
    return None


def url_key(url: str) -> str:
    """A source URL compared without scheme, "www.", query, fragment or trailing slash."""
    from urllib.parse import urlsplit

    parts = urlsplit(str(url).strip())
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}".casefold()


_STOP_WORDS = frozenset("the and for with from that this over their workers employees against letter open".split())


def _title_words(text: str) -> list[str]:
    """The distinctive words of a title (4 letters or more, common words left out)."""
    return [w for w in dict.fromkeys(re.findall(r"[a-z0-9]{4,}", _fold(text))) if w not in _STOP_WORDS]


_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]")


def award_key(award_id: Any) -> str:
    """An award id (PIID) compared without punctuation or case: agencies and spreadsheets write the dashes or not."""
    text = str(award_id or "")
    if text.isascii() and text.isalnum():  # most PIIDs: nothing to remove (asked on every imported award)
        return text.upper()
    return _NOT_ALPHANUMERIC.sub("", text).upper()


def normalise_identifier(scheme: str, value: Any) -> str | None:
    """Identifiers compared in one spelling: UEIs upper case, DUNS as 9 digits (spreadsheets drop leading zeros)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.upper() in ("NONE", "NULL", "N/A", "-NONE-"):
        return None
    if scheme == "duns":
        digits = re.sub(r"\D", "", text)
        return digits.zfill(9) if digits else None
    if scheme == "cik":
        digits = re.sub(r"\D", "", text)
        return digits.lstrip("0") or None
    if scheme in ("uei", "agency_code"):
        return text.upper()
    return text


@dataclass
class Match:
    """Where a reference landed: the node id, how, and whether this call created that node (the caller emits it)."""

    id: str
    method: str
    created: bool = False


@dataclass
class ReviewItem:
    dataset: str
    file: str
    line: int | None
    kind: str
    imported_name: str
    imported_ids: str
    kept_as: str
    candidate_id: str
    candidate_name: str
    reason: str


REVIEW_COLUMNS = ("dataset", "file", "line", "kind", "imported_name", "imported_ids", "kept_as", "candidate_id",
                  "candidate_name", "reason")


@dataclass
class ReviewLog:
    """Uncertain matches, one line per (imported node, candidate, reason); written as CSV for curators."""

    items: list[ReviewItem] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, item: ReviewItem) -> None:
        key = (item.kept_as, item.candidate_id, item.reason)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)

    def write(self, path: str | Path) -> None:
        with open(path, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(REVIEW_COLUMNS)
            for item in self.items:
                writer.writerow([getattr(item, c) if getattr(item, c) is not None else "" for c in REVIEW_COLUMNS])


# --- the seeds' resolvable nodes, cached ------------------------------------------------------------------------------

SEED_ENTITY_FIELDS = ("id", "kind", "name", "aliases", "external_ids", *FIELD_SCHEMES)
_SEED_CACHE_FORMAT = b"statetech seed entities 1"
_seed_entities: dict[str, list[dict[str, Any]]] = {}  # content digest -> rows, for imports run in one process


def seed_cache_dir() -> Path:
    """Where the seeds' alias table is kept between runs: the per-user cache directory (XDG on Linux)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "statetech"


def seed_entities(seeds: Path) -> list[dict[str, Any]]:
    """The resolvable nodes of the curated files under ``seeds`` with the fields resolution matches on.

    Parsing and validating the curated YAML takes seconds (as long as importing 10,000 rows), and every import needs
    the result, so it is cached: in this process and as a JSON file in :func:`seed_cache_dir`, under a digest of
    every seed file's bytes and of the code that reads them (``curated.py``, ``model.py``). An edited seed file or a
    changed reader therefore never meets a stale table; an unwritable cache directory only costs the parse.
    """
    import hashlib
    import json

    from statetech.graph import model
    from statetech.loaders import curated

    digest = hashlib.sha256(_SEED_CACHE_FORMAT)
    for code in (curated.__file__, model.__file__):
        digest.update(Path(code).read_bytes())
    for path in curated.expand_paths([seeds]):
        digest.update(str(path.name).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    key = digest.hexdigest()
    if key in _seed_entities:
        return _seed_entities[key]
    cache = seed_cache_dir() / f"seed-entities-{key[:32]}.json"
    rows = None
    try:
        rows = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if not isinstance(rows, list):
        rows = []
        for located in curated.read_curated([seeds]).nodes:
            node = located.record
            if node.kind in RESOLVABLE_KINDS:
                props = node.properties()
                rows.append({"kind": node.kind, **{f: props[f] for f in SEED_ENTITY_FIELDS if f in props}})
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps(rows), encoding="utf-8")
            partial.replace(cache)  # atomic: a concurrent import reads the old file or the whole new one
        except OSError:
            pass
    _seed_entities[key] = rows
    return rows


@dataclass
class _Entity:
    id: str
    kind: str
    name: str
    curated: bool
    identifiers: dict[str, str]


class Resolver:
    """Maps from identifiers and names to node ids, built once per import from the store (and the shipped seeds)."""

    def __init__(self, dataset: str = "", review: ReviewLog | None = None) -> None:
        self.dataset = dataset
        self.review = review if review is not None else ReviewLog()
        self._entities: dict[str, _Entity] = {}
        self._by_identifier: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._by_exact: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        self._by_normal: dict[tuple[str, str], list[str]] = defaultdict(list)
        # curated nodes only: word -> ids, for near-miss review suggestions
        self._curated_words: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._curated_keys: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._curated_normals: dict[str, dict[str, str]] = defaultdict(dict)  # kind -> normalised name -> id
        # kind -> node id -> positions of its entries in _curated_keys; (kind, first letter) -> normalised names in
        # insertion order: a new name is compared with its few candidates, not with every curated name
        self._curated_key_positions: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._curated_normals_by_letter: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._letter_counts: dict[str, Counter[str]] = {}  # normalised curated name -> its letters, counted
        self._cache: dict[tuple[str, str], Match] = {}
        self._curated_awards: dict[str, str] = {}  # award id without punctuation -> curated contract id
        self._curated_actions: list[dict[str, Any]] = []  # curated worker actions (few: curated by hand)
        self._reviewed_now: set[str] = set()  # candidates already reviewed while resolving the current reference
        # distinct entities matched, by (kind, method), and created, by kind: for the import summary
        self.matched: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.created: Counter[str] = Counter()

    # -- building ------------------------------------------------------------------------------------------------------

    @classmethod
    def from_graph(cls, graph, dataset: str = "", review: ReviewLog | None = None,
                   kinds: Sequence[str] = RESOLVABLE_KINDS, seeds: Path | None = None) -> Resolver:
        """Index the graph's resolvable nodes (asked through :meth:`Graph.resolution_candidates`); seed files add
        their aliases and ids to nodes the graph already has."""
        resolver = cls(dataset, review)
        for kind in kinds:
            for row in graph.resolution_candidates(kind):
                resolver.add_entity(row)
        for row in graph.curated_award_ids() if hasattr(graph, "curated_award_ids") else ():
            resolver.add_curated_award(row["award_id"], row["id"])
        for row in graph.curated_actions() if hasattr(graph, "curated_actions") else ():
            resolver.add_curated_action(row)
        if seeds is not None:
            resolver.add_seed_aliases(seeds)
        return resolver

    def add_curated_award(self, award_id: str, contract_id: str) -> None:
        key = award_key(award_id)
        if key:
            self._curated_awards.setdefault(key, contract_id)

    def curated_contract(self, award_id: str | None) -> str | None:
        """The curated contract with this award id (``HSCETC-09-J-00018`` = ``HSCETC09J00018``), or None."""
        found = self._curated_awards.get(award_key(award_id)) if award_id else None
        if found:
            self.matched[("Contract", "award_id")].add(found)
        return found

    def add_curated_action(self, row: dict[str, Any]) -> None:
        self._curated_actions.append({"id": row["id"], "name": row.get("name") or "", "date": row.get("date") or "",
                                      "companies": set(row.get("companies") or ()),
                                      "urls": {url_key(u) for u in row.get("urls") or () if u}})

    def curated_action(self, date: str | None, companies: Iterable[str], urls: Iterable[str], title: str | None,
                       derived_id: str, *, file: str = "", line: int | None = None) -> str | None:
        """The curated worker action an imported one is: same company, same date (at the curated precision), and a
        shared source URL or the curated title's words in the imported title. Same company and date alone is only a
        candidate: it goes to the review file and the imported action stays separate."""
        if not date:
            return None
        companies, keys = set(companies), {url_key(u) for u in urls if u}
        words = set(_title_words(title or ""))
        for action in self._curated_actions:
            theirs = action["date"]
            if not theirs or not (date.startswith(theirs) or theirs.startswith(date)):
                continue
            if not companies & action["companies"]:
                continue
            mine = _title_words(action["name"])
            title_match = bool(mine) and sum(w in words for w in mine) >= max(2, (len(mine) * 3 + 4) // 5)
            if keys & action["urls"] or title_match:
                self.matched[("EmployeeAction", "url" if keys & action["urls"] else "title")].add(action["id"])
                return action["id"]
            self.review.add(ReviewItem(
                dataset=self.dataset, file=file, line=line, kind="EmployeeAction", imported_name=title or "",
                imported_ids="", kept_as=derived_id, candidate_id=action["id"], candidate_name=action["name"],
                reason=f"same company and date ({date}), no shared source or title"))
        return None

    def add_entity(self, row: dict[str, Any], curated: bool | None = None) -> None:
        """Index one node given as a dict of its properties (id, kind, name, aliases, external_ids, uei, ...)."""
        node_id, kind, name = row["id"], row["kind"], row.get("name") or row["id"]
        is_curated = not row.get("imported_from") if curated is None else curated
        identifiers: dict[str, str] = {}
        for scheme in FIELD_SCHEMES:
            value = normalise_identifier(scheme, row.get(scheme))
            if value:
                identifiers[scheme] = value
        for ext in row.get("external_ids") or []:
            scheme, _, value = str(ext).partition(":")
            value = normalise_identifier(scheme.lower(), value)
            if value:
                identifiers.setdefault(scheme.lower(), value)
                self._add_identifier(scheme.lower(), value, node_id)
        for scheme, value in identifiers.items():
            self._add_identifier(scheme, value, node_id)
        entity = self._entities.get(node_id)
        if entity is None:
            entity = _Entity(node_id, kind, name, is_curated, identifiers)
            self._entities[node_id] = entity
        else:
            for scheme, value in identifiers.items():
                entity.identifiers.setdefault(scheme, value)
        names = [(name, "name")] + [(a, "alias") for a in row.get("aliases") or [] if a]
        for text, how in names:
            if generic_name(text):  # "Inc." or "Agency" would match anything carrying the same noise
                continue
            key = exact_key(text)
            bucket = self._by_exact[(kind, key)]
            if not any(i == node_id for i, _ in bucket):
                bucket.append((node_id, how))
            normal = normalise_name(text, kind)
            if normal:
                nbucket = self._by_normal[(kind, normal)]
                if node_id not in nbucket:
                    nbucket.append(node_id)
                if entity.curated:
                    self._curated_key_positions[kind][node_id].append(len(self._curated_keys[kind]))
                    self._curated_keys[kind].append((normal, node_id))
                    if normal not in self._curated_normals[kind]:
                        self._curated_normals[kind][normal] = node_id
                        self._curated_normals_by_letter[(kind, normal[:1])].append(normal)
                    for word in normal.split():
                        if len(word) >= 3:
                            self._curated_words[(kind, word)].add(node_id)

    def _add_identifier(self, scheme: str, value: str, node_id: str) -> None:
        bucket = self._by_identifier[(scheme, value)]
        if node_id not in bucket:
            bucket.append(node_id)

    def add_seed_aliases(self, seeds: Path) -> None:
        for row in seed_entities(seeds):
            if row["id"] in self._entities:
                self.add_entity(row, curated=self._entities[row["id"]].curated)

    def known(self, node_id: str) -> bool:
        return node_id in self._entities

    def kind_of(self, node_id: str) -> str | None:
        entity = self._entities.get(node_id)
        return entity.kind if entity else None

    # -- resolving -----------------------------------------------------------------------------------------------------

    def resolve(self, kind: str, name: str | None, identifiers: Iterable[tuple[str, Any]], derived_id: str,
                *, file: str = "", line: int | None = None, use_names: bool = True,
                candidate_ids: Sequence[str] = ()) -> Match:
        """The node a reference lands on (see the module docstring); creates and indexes ``derived_id`` if none.

        ``candidate_ids`` are statetech ids the upstream value names directly (a dataset that uses the same slugs,
        or an entity exported by statetech): tried after identifiers, before names, as method ``id``.
        """
        cached = self._cache.get((kind, derived_id))
        if cached is not None:
            return Match(cached.id, cached.method)
        self._reviewed_now = set()
        ids = [(s.lower(), v) for s, v in ((s, normalise_identifier(s.lower(), v)) for s, v in identifiers) if v]
        where = dict(file=file, line=line)
        match = self._by_identifiers(kind, ids, derived_id, name, where)
        if match is None:
            for candidate in candidate_ids:
                entity = self._entities.get(candidate)
                if entity is not None and entity.kind == kind and candidate != derived_id:
                    match = Match(candidate, "id")
                    break
        if match is None and use_names and name:
            match = self._by_names(kind, name, ids, derived_id, where)
        if match is None and derived_id in self._entities:
            match = Match(derived_id, "imported")
        if match is None:
            self._near_misses(kind, name, ids, derived_id, where)
            self.add_entity({"id": derived_id, "kind": kind, "name": name or derived_id,
                             "external_ids": [f"{s}:{v}" for s, v in ids if s not in FIELD_SCHEMES],
                             **{s: v for s, v in ids if s in FIELD_SCHEMES}},
                            curated=False)
            self.created[kind] += 1
            match = Match(derived_id, "imported", created=True)
        elif match.method != "imported":
            self.matched[(kind, match.method)].add(match.id)
        else:
            # the node an earlier import created, found again: its uncertain matches are still open, so they go to
            # the review file on every run, not only on the run that created it
            self._near_misses(kind, name, ids, match.id, where)
        self._cache[(kind, derived_id)] = Match(match.id, match.method)
        return match

    def find_identifier(self, scheme: str, value: Any) -> str | None:
        """The one node carrying this identifier (e.g. an FtM id imported by an earlier run), or None."""
        value = normalise_identifier(scheme, value)
        hits = self._by_identifier.get((scheme, value), []) if value else []
        return hits[0] if len(hits) == 1 else None

    def lookup(self, kind: str, text: str) -> Match | None:
        """An exact, unambiguous name or alias match, or None; never creates (for tags and other loose mentions)."""
        hits = self._by_exact.get((kind, exact_key(text)), [])
        if len(hits) != 1:
            return None
        node_id, how = hits[0]
        self.matched[(kind, how)].add(node_id)
        return Match(node_id, how)

    def _pick(self, kind: str, candidates: list[str], derived_id: str, name: str | None, ids, where,
              what: str) -> str | None:
        """One candidate, preferring curated nodes, then the importer's own; several equals go to review."""
        candidates = [c for c in dict.fromkeys(candidates) if self._entities[c].kind == kind]
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        curated = [c for c in candidates if self._entities[c].curated]
        if len(curated) == 1:
            return curated[0]
        if derived_id in candidates and not curated:
            return derived_id
        pool = curated or candidates
        for candidate in pool:
            self._review(kind, name, ids, derived_id, candidate, f"ambiguous {what}: {len(pool)} nodes match", where)
        return None

    def _by_identifiers(self, kind, ids, derived_id, name, where) -> Match | None:
        for scheme, value in ids:
            hits = self._by_identifier.get((scheme, value))
            if not hits:
                continue
            chosen = self._pick(kind, list(hits), derived_id, name, ids, where, f"{scheme} {value}")
            if chosen:
                method = "imported" if chosen == derived_id else METHOD_BY_SCHEME.get(scheme, "external_id")
                return Match(chosen, method)
        return None

    def _conflicts(self, candidate: str, ids: list[tuple[str, str]]) -> str | None:
        known = self._entities[candidate].identifiers
        for scheme, value in ids:
            if scheme in FIELD_SCHEMES and scheme in known and known[scheme] != value:
                return f"same name but {scheme} {value} differs from the node's {known[scheme]}"
        return None

    def _by_names(self, kind, name, ids, derived_id, where) -> Match | None:
        if generic_name(name):  # legal-suffix noise alone is never a match
            return None
        exact = self._by_exact.get((kind, exact_key(name)), [])
        normal = self._by_normal.get((kind, normalise_name(name, kind)), []) if normalise_name(name, kind) else []
        for method_of, pool in ((dict(exact), [i for i, _ in exact]), (None, list(normal))):
            usable = []
            for candidate in pool:
                conflict = self._conflicts(candidate, ids)
                if conflict:
                    self._review(kind, name, ids, derived_id, candidate, conflict, where)
                else:
                    usable.append(candidate)
            chosen = self._pick(kind, usable, derived_id, name, ids, where, f"name {name!r}") if usable else None
            if chosen:
                if chosen == derived_id:
                    return Match(chosen, "imported")
                return Match(chosen, method_of[chosen] if method_of else "normalised_name")
            if usable:  # ambiguous: already reviewed; do not fall through to a looser key
                return None
        return None

    def _near_misses(self, kind, name, ids, derived_id, where) -> None:
        """Curated nodes this new node might be: flagged for review, never merged."""
        if not name:
            return
        normal = normalise_name(name, kind)
        candidates: set[str] = set()
        for word in set(normal.split()):
            if len(word) >= 3:
                candidates |= self._curated_words.get((kind, word), set())
        flagged: set[str] = set(self._reviewed_now)
        words = normal.split()
        keys, positions = self._curated_keys.get(kind, []), self._curated_key_positions.get(kind, {})
        for normal_key, node_id in (keys[i] for i in sorted(i for c in candidates for i in positions.get(c, ()))):
            if node_id in flagged:
                continue
            theirs = normal_key.split()
            shorter, longer = sorted((words, theirs), key=len)
            if shorter and longer[: len(shorter)] == shorter:
                flagged.add(node_id)
                self._review(kind, name, ids, derived_id, node_id,
                             f"one name starts with the other ({normal!r} / {normal_key!r})", where)
        if len(normal) >= 6:
            normals = self._curated_normals.get(kind, {})
            # A ratio of 0.85 needs lengths within about 30% of each other; filtering on that (and on the first
            # letter, which a near-identical spelling shares) keeps this cheap when thousands of names are new.
            pool = [k for k in self._curated_normals_by_letter.get((kind, normal[:1]), ())
                    if abs(len(k) - len(normal)) <= len(normal) // 3 + 1]
            if pool:
                pool = self._could_be_close(normal, pool, 0.85)
            for close in did_you_mean(normal, pool, n=3, cutoff=0.85) if pool else ():
                node_id = normals[close]
                if node_id not in flagged:
                    flagged.add(node_id)
                    self._review(kind, name, ids, derived_id, node_id,
                                 f"names spelled alike ({normal!r} / {close!r})", where)

    def _could_be_close(self, word: str, pool: list[str], cutoff: float) -> list[str]:
        """The names of ``pool`` that :func:`did_you_mean` could find close to ``word`` at ``cutoff``: those whose
        letters in common with it (counted, so an upper bound of the similarity: difflib's ``quick_ratio``, computed
        the same way) reach the cutoff. The others can never be returned, so leaving them out changes no answer and
        spares building a matcher for every new name of an import, where almost no name is close to a curated one."""
        mine = Counter(word)
        kept = []
        for name in pool:
            theirs = self._letter_counts.get(name)
            if theirs is None:
                theirs = self._letter_counts[name] = Counter(name)
            matches = sum(min(count, theirs.get(letter, 0)) for letter, count in mine.items())  # no __missing__
            length = len(word) + len(name)
            if (2.0 * matches / length if length else 1.0) >= cutoff:
                kept.append(name)
        return kept

    def _review(self, kind, name, ids, derived_id, candidate, reason, where) -> None:
        self._reviewed_now.add(candidate)
        entity = self._entities.get(candidate)
        self.review.add(ReviewItem(
            dataset=self.dataset, file=where.get("file", ""), line=where.get("line"), kind=kind,
            imported_name=name or "", imported_ids=" ".join(f"{s}:{v}" for s, v in ids), kept_as=derived_id,
            candidate_id=candidate, candidate_name=entity.name if entity else "", reason=reason))

    # -- summary -------------------------------------------------------------------------------------------------------

    def matched_counts(self) -> dict[str, dict[str, int]]:
        """kind -> method -> distinct nodes matched (excluding the importer's own nodes found again)."""
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for (kind, method), ids in sorted(self.matched.items()):
            out[kind][method] = len(ids)
        return dict(out)
