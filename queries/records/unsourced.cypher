// name: records/unsourced
// title: Records citing sources that are not in the graph
// description: >-
//   Entities and relationships that cite no source, or a source id with no Source record behind it (for example after
//   a partial load), with the missing ids: the provenance check. It reads the missing_sources field statetech stores
//   on such records whenever it writes them or their sources (and out_missing_sources on the entities their
//   relationships start from), instead of looking up every cited id. Records changed by something other than
//   statetech (a hand edit in Neo4j Browser) are seen only after 'statetech db refresh'.
// derived_fields: true
// returns: [record, id, kind, missing_sources]
CALL () {
  MATCH (n:Entity)
  WHERE n.missing_sources IS NOT NULL
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind, n.missing_sources AS missing_sources
  UNION ALL
  // relationships are found from their start node (a scan of every relationship is what the flag avoids)
  MATCH (a:Entity)
  WHERE a.out_missing_sources = true
  MATCH (a)-[r]->(:Entity)
  WHERE r.missing_sources IS NOT NULL
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind, r.missing_sources AS missing_sources
}
RETURN record, id, kind, missing_sources
ORDER BY record, id
