// Embedded-engine form of records/new-since.cypher: Grafeo has no full-text or range index, so the records with an
// 'added' or 'updated' day (the curated ones, a few among millions of imported records) are found through the
// indexed flags statetech keeps at write time (statetech.graph.vocabulary: has_history on such an entity,
// out_history on the start node of such a relationship) instead of a scan of every entity and relationship. The
// tests on the days themselves stay, so a flag only narrows the candidates. Same rows; the parity tests compare the
// two forms.
CALL () {
  MATCH (n:Entity {has_history: true})
  // the days are tested as variables of a WITH: tests in a WHERE right after these MATCHes (even one on $record
  // alone) make the engine (Grafeo 0.6) scan every entity instead of looking the flag up in its index
  WITH n, n.added AS added, n.updated AS updated
  WHERE (substring(added, 0, size($since)) > $since OR substring(updated, 0, size($since)) > $since)
    AND ($record IS NULL OR $record = 'entity')
  RETURN added, updated, 'entity' AS record, n.id AS id, n.kind AS kind,
         n.name AS description, n.confidence AS confidence, n.sources AS sources
  UNION ALL
  MATCH (x:Entity {out_history: true})
  MATCH (x)-[r]->(y:Entity)
  WITH x, r, y, r.added AS added, r.updated AS updated
  WHERE (substring(added, 0, size($since)) > $since OR substring(updated, 0, size($since)) > $since)
    AND ($record IS NULL OR $record = 'relationship')
  RETURN added, updated, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
WITH added, updated, record, id, kind, description, confidence, sources,
     CASE WHEN substring(added, 0, size($since)) > $since THEN 'added' ELSE 'updated' END AS change,
     CASE WHEN updated IS NOT NULL AND (added IS NULL OR updated > added) THEN updated ELSE added END AS changed
RETURN changed, change, added, updated, record, id, kind, description, confidence, sources
ORDER BY changed DESC, record, id
LIMIT $limit
