// Embedded-engine form of records/newest.cypher (same parameters, same rows). The engine sorts slowly (ORDER BY ...
// LIMIT over 100,000 entities cost 8 times a scan with a property test), so neither part sorts the whole graph: each
// first counts its records per date (a grouping, as cheap as a scan), walks the dates newest first until $limit records
// are covered, and only the records dated on or after that floor are sorted. Neo4j reads the same order from its
// indexes instead (records/newest.cypher).
CALL () {
  MATCH (n:Entity)
  WHERE n.newest_source IS NOT NULL AND ($since IS NULL OR (n.newest_source >= $since AND n.newest_source <> 'undated'))
  WITH n.newest_source AS date, count(*) AS records
  WITH date, records ORDER BY date DESC
  WITH collect([date, records]) AS dates
  // [records covered, lowest date needed]: once $limit records are covered, no older date can be in the answer
  WITH reduce(acc = [0, null], d IN dates | CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END)[1]
       AS floor
  MATCH (n:Entity)
  WHERE n.newest_source >= floor AND ($since IS NULL OR (n.newest_source >= $since AND n.newest_source <> 'undated'))
  WITH n ORDER BY n.newest_source DESC, n.id LIMIT $limit
  RETURN n.newest_source AS newest, 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description,
         n.confidence AS confidence, n.sources AS sources
  UNION ALL
  MATCH (x:Entity)
  WHERE $since IS NULL AND x.out_undated = true
  MATCH (x)-[r]->(y:Entity)
  WHERE r.newest_source = 'undated'
  WITH x, r, y ORDER BY r.id LIMIT $limit
  RETURN r.newest_source AS newest, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
  UNION ALL
  // start nodes per out_newest, walked newest first until $limit start nodes are covered: that date is the floor of
  // records/newest.cypher (exact out_newest; proof in statetech.graph.provenance); fewer start nodes: no floor
  MATCH (x:Entity)
  WHERE x.out_newest IS NOT NULL AND ($since IS NULL OR x.out_newest >= $since)
  WITH x.out_newest AS date, count(*) AS starts
  WITH date, starts ORDER BY date DESC
  WITH collect([date, starts]) AS dates
  WITH reduce(acc = [0, null], d IN dates | CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END)
       AS covered
  WITH CASE WHEN covered[0] < $limit THEN coalesce($since, '') ELSE covered[1] END AS floor
  MATCH (x:Entity)
  WHERE x.out_newest >= floor
  MATCH (x)-[r]->(y:Entity)
  WHERE r.newest_source >= floor AND r.newest_source <> 'undated' AND ($since IS NULL OR r.newest_source >= $since)
  WITH x, r, y ORDER BY r.newest_source DESC, r.id LIMIT $limit
  RETURN r.newest_source AS newest, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
RETURN CASE WHEN newest = 'undated' THEN null ELSE newest END AS newest_source_date, record, id, kind, description,
       confidence, sources
ORDER BY newest_source_date DESC, record, id
LIMIT $limit
