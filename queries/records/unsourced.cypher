// name: records/unsourced
// title: Records citing sources that are not in the graph
// description: >-
//   Entities and relationships that cite no source, or a source id with no Source record behind it (for example after
//   a partial load or a hand edit in Neo4j Browser), with the missing ids: the provenance check.
// returns: [record, id, kind, missing_sources]
CALL () {
  MATCH (n:Entity)
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, coalesce(n.sources, []) AS sources
  UNION ALL
  MATCH (:Entity)-[r]->(:Entity)
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, coalesce(r.sources, []) AS sources
}
UNWIND CASE WHEN size(sources) = 0 THEN [null] ELSE sources END AS sid
OPTIONAL MATCH (s:Source {id: sid})
WITH record, id, kind, sid, s
WHERE s IS NULL
WITH record, id, kind, coalesce(sid, '(no source cited)') AS missing ORDER BY missing
RETURN record, id, kind, collect(missing) AS missing_sources
ORDER BY record, id
