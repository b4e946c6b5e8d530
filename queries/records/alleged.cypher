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
  WHERE n.confidence = 'alleged' AND ($record IS NULL OR $record = 'entity')
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.start_date AS start_date,
         n.sources AS sources
  UNION ALL
  MATCH (x:Entity)-[r]->(y:Entity)
  WHERE r.confidence = 'alleged' AND ($record IS NULL OR $record = 'relationship')
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
         coalesce(r.start_date, r.as_of) AS start_date, r.sources AS sources
}
RETURN record, id, kind, description, start_date, sources
ORDER BY record, id
LIMIT $limit
