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
  // Records are grouped by the list of sources they cite (records share a few thousand lists), each list's newest date
  // is looked up once, then only the sort key travels through the ORDER BY: one subquery per record instead was 1.7
  // times slower on both stores at 100k nodes and 1.8 times slower on Neo4j at 1M nodes / 3M relationships. (At that
  // size the embedded engine still runs past its 30 s limit in either form: every relationship's sources are read.)
  MATCH (n:Entity)
  WITH coalesce(n.sources, []) AS cited, collect([n.id, n]) AS records
  CALL (cited) {
    UNWIND cited AS sid
    MATCH (s:Source {id: sid})
    RETURN max(s.published) AS newest, count(s) AS found
  }
  WITH records, newest, found
  WHERE found > 0 AND ($since IS NULL OR newest >= $since)
  UNWIND records AS record
  WITH record[0] AS id, record[1] AS n, newest ORDER BY newest DESC, id LIMIT $limit
  RETURN newest AS newest_source_date, 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description,
         n.confidence AS confidence, n.sources AS sources
  UNION ALL
  MATCH (x:Entity)-[r]->(y:Entity)
  WITH coalesce(r.sources, []) AS cited, collect([r.id, x, r, y]) AS records
  CALL (cited) {
    UNWIND cited AS sid
    MATCH (s:Source {id: sid})
    RETURN max(s.published) AS newest, count(s) AS found
  }
  WITH records, newest, found
  WHERE found > 0 AND ($since IS NULL OR newest >= $since)
  UNWIND records AS record
  WITH record[0] AS id, record[1] AS x, record[2] AS r, record[3] AS y, newest ORDER BY newest DESC, id LIMIT $limit
  RETURN newest AS newest_source_date, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
RETURN newest_source_date, record, id, kind, description, confidence, sources
ORDER BY newest_source_date DESC, record, id
LIMIT $limit
