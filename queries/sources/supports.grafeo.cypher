// Embedded-engine form of sources/supports.cypher. Grafeo has no index on list elements nor on relationship
// properties, but keeps a full-text index on each entity's citation tokens: 'cited' for its own sources, 'out_cited'
// for its outgoing relationships' (statetech.graph.vocabulary.CITED). The token of $source finds the candidates, and
// the IN test keeps the answer exact. A procedure's arguments must be constants, so the token is computed from
// $source itself, which works when $source is a source id; sources found by their URL are read through the scan of
// the second branch instead. Same rows; the parity tests compare the two forms.
CALL {
  MATCH (s:Source) WHERE s.id = $source
  CALL (s) {
    CALL {
      CALL grafeo.search.text('Entity', 'cited',
        'stc' + replace(replace(replace(replace(replace($source, 'z', 'zz'), ':', 'zc'), '.', 'zd'), '_', 'zu'), '-', 'zh'), 9223372036854775807)
      YIELD node_id
      RETURN node_id
    }
    MATCH (n:Entity) WHERE id(n) = node_id AND s.id IN n.sources
    RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.confidence AS confidence
    UNION ALL
    CALL {
      CALL grafeo.search.text('Entity', 'out_cited',
        'stc' + replace(replace(replace(replace(replace($source, 'z', 'zz'), ':', 'zc'), '.', 'zd'), '_', 'zu'), '-', 'zh'), 9223372036854775807)
      YIELD node_id
      RETURN node_id
    }
    // the start node first, then its relationships: matched in one pattern, the id test was not used as an anchor
    // and every relationship of the graph was read for each candidate (1 s at 1M nodes instead of 34 ms)
    MATCH (x:Entity) WHERE id(x) = node_id
    WITH s, x
    MATCH (x)-[r]->(y:Entity) WHERE s.id IN r.sources
    RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
           r.confidence AS confidence
  }
  RETURN s, record, id, kind, description, confidence
  UNION ALL
  MATCH (s:Source) WHERE s.url = $source AND s.id <> $source
  CALL (s) {
    MATCH (n:Entity) WHERE s.id IN n.sources
    RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.confidence AS confidence
    UNION ALL
    MATCH (x:Entity)-[r]->(y:Entity) WHERE s.id IN r.sources
    RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
           r.confidence AS confidence
  }
  RETURN s, record, id, kind, description, confidence
}
RETURN s.id AS source, record, id, kind, description, confidence
ORDER BY record, id
