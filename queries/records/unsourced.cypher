// name: records/unsourced
// title: Records citing sources that are not in the graph
// description: >-
//   Entities and relationships that cite no source, or a source id with no Source record behind it (for example after
//   a partial load or a hand edit in Neo4j Browser), with the missing ids: the provenance check.
// returns: [record, id, kind, missing_sources]
CALL () {
  MATCH (n:Entity)
  RETURN DISTINCT 'entity' AS record, coalesce(n.sources, []) AS cited
  UNION
  MATCH (:Entity)-[r]->(:Entity)
  RETURN DISTINCT 'relationship' AS record, coalesce(r.sources, []) AS cited
}
// each distinct list of cited ids is checked once (records share a few thousand lists), then only the records
// citing a list with a missing id are read again
CALL (cited) {
  UNWIND CASE WHEN size(cited) = 0 THEN [null] ELSE cited END AS sid
  OPTIONAL MATCH (s:Source {id: sid})
  WITH sid, s
  WHERE s IS NULL
  WITH coalesce(sid, '(no source cited)') AS missing ORDER BY missing
  RETURN collect(missing) AS missing
}
WITH record, cited, missing
WHERE size(missing) > 0
WITH record, collect([cited, missing]) AS bad
CALL (record, bad) {
  MATCH (n:Entity)
  WHERE record = 'entity' AND coalesce(n.sources, []) IN [b IN bad | b[0]]
  RETURN n.id AS id, n.kind AS kind, coalesce(n.sources, []) AS cited
  UNION ALL
  MATCH (:Entity)-[r]->(:Entity)
  WHERE record = 'relationship' AND coalesce(r.sources, []) IN [b IN bad | b[0]]
  RETURN r.id AS id, type(r) AS kind, coalesce(r.sources, []) AS cited
}
RETURN record, id, kind, [b IN bad WHERE b[0] = cited][0][1] AS missing_sources
ORDER BY record, id
