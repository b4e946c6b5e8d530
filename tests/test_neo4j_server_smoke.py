"""End-to-end check that tests/neo4j_server.py gives us a working Neo4j 5.26 over Bolt."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import neo4j
import pytest

# tests/ is not a package; make the helper importable however pytest was invoked.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from neo4j_server import Neo4jServer  # noqa: E402


def _roundtrip(uri: str, auth) -> None:
    marker = str(uuid.uuid4())
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        driver.verify_connectivity()

        with driver.session() as session:
            session.execute_write(
                lambda tx: tx.run("CREATE (:SmokeTest {marker: $marker})", marker=marker).consume()
            )
            found = session.execute_read(
                lambda tx: tx.run(
                    "MATCH (n:SmokeTest {marker: $marker}) RETURN n.marker AS marker", marker=marker
                ).single()
            )
        assert found is not None and found["marker"] == marker

        records, _, _ = driver.execute_query(
            "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
        )
        kernel = {r["name"]: r for r in records}["Neo4j Kernel"]
        assert kernel["edition"] == "community"
        assert kernel["versions"][0].startswith("5.26."), kernel["versions"]

    # Client-side routing (neo4j:// URIs) needs the routing table to advertise the real port,
    # not the 0 the launcher asked to listen on.
    routed_uri = uri.replace("bolt://", "neo4j://", 1)
    with neo4j.GraphDatabase.driver(routed_uri, auth=auth) as driver:
        with driver.session(default_access_mode=neo4j.READ_ACCESS) as session:
            assert session.run("MATCH (n:SmokeTest {marker: $marker}) RETURN count(n) AS c", marker=marker).single()["c"] == 1


@pytest.mark.neo4j
def test_server_roundtrip_without_auth():
    server = Neo4jServer()
    with server:
        assert server.uri is not None and server.uri.startswith("bolt://127.0.0.1:")
        assert server.auth is None
        data_dir = server.data_dir
        _roundtrip(server.uri, server.auth)
    assert not server.running
    assert data_dir is not None and not data_dir.exists(), "temp data dir should be removed on stop"


@pytest.mark.neo4j
def test_server_with_password_rejects_wrong_credentials():
    with Neo4jServer(password="smoke-pw") as server:
        assert server.auth == ("neo4j", "smoke-pw")
        _roundtrip(server.uri, server.auth)
        with neo4j.GraphDatabase.driver(server.uri, auth=("neo4j", "wrong")) as driver:
            with pytest.raises(neo4j.exceptions.AuthError):
                driver.verify_connectivity()
