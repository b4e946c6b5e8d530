// name: sources/supports
// title: What else a source supports
// description: >-
//   Every entity and relationship that cites the source (given by id or URL), so one document's reliability can be
//   weighed across everything it backs.
// params:
//   source: {type: string, required: true, help: "source id (source:...) or its URL"}
// returns: [source, record, id, kind, description, confidence]
// derived_fields: true
MATCH (s:Source)
WHERE s.id = $source OR s.url = $source
// The full-text indexes hold each cited source id as one exact term (the 'keyword' analyzer); the id is quoted as a
// phrase, with the query syntax's two special characters inside quotes escaped. The IN test keeps the answer exact.
WITH s, 'sources:"' + replace(replace(s.id, '\\', '\\\\'), '"', '\\"') + '"' AS cited
CALL (s, cited) {
  CALL db.index.fulltext.queryNodes('entity_citations', cited) YIELD node
  WITH s, node AS n
  WHERE n:Entity AND s.id IN n.sources
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.confidence AS confidence
  UNION ALL
  CALL db.index.fulltext.queryRelationships('relationship_citations', cited) YIELD relationship
  WITH s, relationship AS r
  WHERE s.id IN r.sources
  // the relationship's ends are read from it, not matched again through the graph
  WITH r, startNode(r) AS x, endNode(r) AS y
  WHERE x:Entity AND y:Entity
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
         r.confidence AS confidence
}
RETURN s.id AS source, record, id, kind, description, confidence
ORDER BY record, id
