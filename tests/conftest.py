"""Shared fixtures: the same test bodies run against the embedded store and a real Neo4j server.

The Neo4j server is started once per session from the Maven-built launcher (tests/neo4j_launcher), unless
NEO4J_URI points at one already running. Tests that need it carry the ``neo4j`` marker (added automatically to every
test parametrised with the Neo4j backend).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from statetech.graph.api import Graph
from statetech.graph.store import GrafeoStore, Neo4jStore

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
SHARED_FIXTURES = TESTS.parent.parent / "shared" / "fixtures"
BACKENDS = ("embedded", "neo4j")


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Imports cache the seeds' alias table under $XDG_CACHE_HOME (loaders/resolve.py); the suite, and every command
    it runs, keeps that cache in a temporary folder instead of the user's home."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and any(v == "neo4j" for v in callspec.params.values()):
            item.add_marker(pytest.mark.neo4j)


@pytest.fixture(scope="session")
def neo4j_server():
    """(uri, user, password) of a real Neo4j: NEO4J_URI if set, else one started for this session."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield uri, os.environ.get("NEO4J_USERNAME", "neo4j"), os.environ.get("NEO4J_PASSWORD")
        return
    from neo4j_server import Neo4jServer  # tests/ is on sys.path (rootdir conftest)

    server = Neo4jServer()
    server.start()
    try:
        user, password = server.auth if server.auth else (None, None)
        yield server.uri, user, password
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_store(neo4j_server):
    uri, user, password = neo4j_server
    store = Neo4jStore(uri, user=user, password=password, database=os.environ.get("NEO4J_DATABASE"))
    store.ensure_schema()
    yield store
    store.close()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def graph(backend, request, tmp_path) -> Graph:
    """An empty graph on each backend in turn; Neo4j is cleared before and after each test."""
    if backend == "embedded":
        g = Graph(GrafeoStore(tmp_path / "store.grafeo"))
        yield g
        g.close()
        return
    store = request.getfixturevalue("neo4j_store")
    store.clear()
    yield Graph(store)
    store.clear()


@pytest.fixture
def small_fixture() -> Path:
    return FIXTURES / "curated" / "small.yaml"


@pytest.fixture
def shared_fixtures() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is not present beside this checkout")
    return SHARED_FIXTURES


@pytest.fixture
def progress_events():
    """A progress display that writes down what it is told: ``(Recorder, events)``; pass ``Recorder`` as an import's
    ``progress`` and read ``events`` (``("start", label, total)``, ``("update", done)``, ``("finish",)``)."""
    events: list[tuple] = []

    class Recorder:
        def start(self, label, total):
            events.append(("start", label, total))

        def update(self, done):
            events.append(("update", done))

        def finish(self):
            events.append(("finish",))

    return Recorder, events
