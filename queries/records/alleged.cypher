// name: records/alleged
// title: Records with only alleged support
// description: >-
//   Entities and relationships whose confidence is 'alleged' (claimed by a party such as advocates, not confirmed or
//   reported independently), with their sources, entities first: the list to verify first.
// params:
//   record: {type: string, choices: [entity, relationship], help: "only entities or only relationships"}
//   limit: {type: int, default: 1000, help: "at most this many rows"}
// returns: [record, id, kind, description, start_date, sources]
CALL () {
  MATCH (n:Entity)
  WHERE n.confidence = 'alleged' AND n.id IS NOT NULL AND ($record IS NULL OR $record = 'entity')
  // each part keeps only its first $limit rows: entities sort before relationships, so no row of the answer is lost,
  // and Neo4j reads them in order from the (confidence, id) index instead of sorting every alleged record
  WITH n ORDER BY n.confidence, n.id LIMIT $limit
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.start_date AS start_date,
         n.sources AS sources
  UNION ALL
  // the relationships come from the full-text index on every type's confidence (the embedded form scans them)
  CALL db.index.fulltext.queryRelationships('relationship_citations', 'confidence:alleged') YIELD relationship
  WITH relationship AS r
  MATCH (x:Entity)-[r]->(y:Entity)
  WHERE r.confidence = 'alleged' AND ($record IS NULL OR $record = 'relationship')
  WITH x, r, y ORDER BY r.id LIMIT $limit
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
         coalesce(r.start_date, r.as_of) AS start_date, r.sources AS sources
}
RETURN record, id, kind, description, start_date, sources
ORDER BY record, id
LIMIT $limit
