// name: records/newest
// title: Newest records
// description: >-
//   Entities and relationships ordered by the publication date of the newest source they cite, newest first: what
//   the graph learned most recently. Optionally only records with a source published on or after a date. Records
//   whose sources are all missing from the graph are left out (see records/unsourced).
// params:
//   since: {type: date, help: "only records whose newest source was published on or after this date"}
//   limit: {type: int, default: 50, help: "at most this many rows"}
// returns: [newest_source_date, record, id, kind, description, confidence, sources]
CALL () {
  MATCH (n:Entity)
  // each record's newest cited source in a subquery of its own: grouping the rows by whole records instead was
  // 2-3 times slower on both stores (and ran past the embedded engine's 30 s limit at 1M nodes / 3M relationships)
  CALL (n) {
    UNWIND n.sources AS sid
    MATCH (s:Source {id: sid})
    RETURN max(s.published) AS newest, count(s) AS found
  }
  WITH n, newest, found
  WHERE found > 0 AND ($since IS NULL OR newest >= $since)
  WITH n, newest ORDER BY newest DESC, n.id LIMIT $limit
  RETURN newest AS newest_source_date, 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description,
         n.confidence AS confidence, n.sources AS sources
  UNION ALL
  MATCH (x:Entity)-[r]->(y:Entity)
  CALL (r) {
    UNWIND r.sources AS sid
    MATCH (s:Source {id: sid})
    RETURN max(s.published) AS newest, count(s) AS found
  }
  WITH x, r, y, newest, found
  WHERE found > 0 AND ($since IS NULL OR newest >= $since)
  WITH x, r, y, newest ORDER BY newest DESC, r.id LIMIT $limit
  RETURN newest AS newest_source_date, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
RETURN newest_source_date, record, id, kind, description, confidence, sources
ORDER BY newest_source_date DESC, record, id
LIMIT $limit
