// name: sources/supports
// title: What else a source supports
// description: >-
//   Every entity and relationship that cites the source (given by id or URL), so one document's reliability can be
//   weighed across everything it backs.
// params:
//   source: {type: string, required: true, help: "source id (source:...) or its URL"}
// returns: [source, record, id, kind, description, confidence]
MATCH (s:Source)
WHERE s.id = $source OR s.url = $source
CALL (s) {
  MATCH (n:Entity) WHERE s.id IN n.sources
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description, n.confidence AS confidence
  UNION ALL
  MATCH (x:Entity)-[r]->(y:Entity) WHERE s.id IN r.sources
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, x.name + ' ' + type(r) + ' ' + y.name AS description,
         r.confidence AS confidence
}
RETURN s.id AS source, record, id, kind, description, confidence
ORDER BY record, id
