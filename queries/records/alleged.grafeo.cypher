// Embedded-engine form of records/alleged.cypher: Grafeo has no full-text index procedure, so the relationships are
// scanned (its column statistics answer an equality with a value no relationship holds without reading them).
CALL () {
  MATCH (n:Entity)
  WHERE n.confidence = 'alleged' AND ($record IS NULL OR $record = 'entity')
  WITH n ORDER BY n.id LIMIT $limit
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.start_date AS start_date,
         n.sources AS sources
  UNION ALL
  MATCH (x:Entity)-[r]->(y:Entity)
  WHERE r.confidence = 'alleged' AND ($record IS NULL OR $record = 'relationship')
  WITH x, r, y ORDER BY r.id LIMIT $limit
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
         coalesce(r.start_date, r.as_of) AS start_date, r.sources AS sources
}
RETURN record, id, kind, description, start_date, sources
ORDER BY record, id
LIMIT $limit
