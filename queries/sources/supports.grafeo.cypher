// Embedded-engine form of sources/supports.cypher: Grafeo has no full-text index procedure, so every entity's and
// relationship's list of sources is scanned. Same rows; the parity tests compare the two forms.
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
