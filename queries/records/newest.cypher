// name: records/newest
// title: Newest records
// description: >-
//   Entities and relationships ordered by the publication date of the newest source they cite, newest first: what
//   the graph learned most recently. Optionally only records with a source published on or after a date. Records
//   whose sources are all missing from the graph are left out (see records/unsourced); records whose sources in the
//   graph carry no date come first, with no date. It reads the newest_source field statetech stores on every record
//   whenever it writes it or its sources ('undated' for those without a date), and each entity's out_newest (the
//   newest of its outgoing relationships), instead of looking up every cited source. Records changed by something
//   other than statetech (a hand edit in Neo4j Browser) are seen only after 'statetech db refresh'.
// derived_fields: true
// params:
//   since: {type: date, help: "only records whose newest source was published on or after this date"}
//   limit: {type: int, default: 50, help: "at most this many rows"}
// returns: [newest_source_date, record, id, kind, description, confidence, sources]
CALL () {
  MATCH (n:Entity)
  WHERE n.newest_source IS NOT NULL AND ($since IS NULL OR (n.newest_source >= $since AND n.newest_source <> 'undated'))
  WITH n ORDER BY n.newest_source DESC, n.id LIMIT $limit
  RETURN n.newest_source AS newest, 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description,
         n.confidence AS confidence, n.sources AS sources
  UNION ALL
  // Relationships whose sources carry no date sort first, as a null date does; only without $since.
  MATCH (x:Entity)
  WHERE $since IS NULL AND x.out_undated = true
  MATCH (x)-[r]->(y:Entity)
  WHERE r.newest_source = 'undated'
  WITH x, r, y ORDER BY r.id LIMIT $limit
  RETURN r.newest_source AS newest, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
  UNION ALL
  // Dated relationships, from the start nodes whose newest outgoing relationship is among the $limit newest: the
  // lowest of those $limit dates (floor) bounds the answer from below, because each such node has a relationship of
  // exactly that date (out_newest is kept exact; the proof is in statetech.graph.provenance).
  MATCH (x:Entity)
  WHERE x.out_newest IS NOT NULL AND ($since IS NULL OR x.out_newest >= $since)
  WITH x.out_newest AS top ORDER BY top DESC LIMIT $limit
  // with fewer than $limit such nodes every dated relationship (on or after $since) may be in the answer
  WITH CASE WHEN count(top) < $limit THEN coalesce($since, '') ELSE min(top) END AS floor
  MATCH (x:Entity)
  WHERE x.out_newest >= floor
  MATCH (x)-[r]->(y:Entity)
  WHERE r.newest_source >= floor AND r.newest_source <> 'undated' AND ($since IS NULL OR r.newest_source >= $since)
  WITH x, r, y ORDER BY r.newest_source DESC, r.id LIMIT $limit
  RETURN r.newest_source AS newest, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
// 'undated' sorted after every date in each part (DESC: first), as the null it stands for does here
RETURN CASE WHEN newest = 'undated' THEN null ELSE newest END AS newest_source_date, record, id, kind, description,
       confidence, sources
ORDER BY newest_source_date DESC, record, id
LIMIT $limit
