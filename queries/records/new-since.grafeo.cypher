// Embedded-engine form of records/new-since.cypher: Grafeo has no full-text index procedure, so every entity and
// relationship is scanned. (Range tests that mirror the Neo4j form's index ranges, and per-part ORDER BY ... LIMIT,
// were not faster on Grafeo 0.6: measured at 100k nodes.) Same rows; the parity tests compare the two forms.
CALL () {
  MATCH (n:Entity)
  WHERE (substring(n.added, 0, size($since)) > $since OR substring(n.updated, 0, size($since)) > $since)
    AND ($record IS NULL OR $record = 'entity')
  RETURN n.added AS added, n.updated AS updated, 'entity' AS record, n.id AS id, n.kind AS kind,
         n.name AS description, n.confidence AS confidence, n.sources AS sources
  UNION ALL
  MATCH (x:Entity)-[r]->(y:Entity)
  WHERE (substring(r.added, 0, size($since)) > $since OR substring(r.updated, 0, size($since)) > $since)
    AND ($record IS NULL OR $record = 'relationship')
  RETURN r.added AS added, r.updated AS updated, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
WITH added, updated, record, id, kind, description, confidence, sources,
     CASE WHEN substring(added, 0, size($since)) > $since THEN 'added' ELSE 'updated' END AS change,
     CASE WHEN updated IS NOT NULL AND (added IS NULL OR updated > added) THEN updated ELSE added END AS changed
RETURN changed, change, added, updated, record, id, kind, description, confidence, sources
ORDER BY changed DESC, record, id
LIMIT $limit
