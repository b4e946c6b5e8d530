// Embedded-engine form of records/newest.cypher (same parameters, same rows). The engine answers equality from a
// property index but sorts slowly and has no range index, so the answer is looked up date by date instead of read
// from a scan of every record. Every newest_source (and every out_newest) is the published date of a Source or
// 'undated', so the $limit newest dates of the Sources (on or after $since), a scan of the few Source nodes, are the
// only candidates: each one is looked up in the property index on newest_source (entities) or out_newest (start
// nodes). When those lookups cannot be shown to hold the answer, each part falls back to the grouping form below.
CALL () {
  MATCH (s:Source)
  WHERE s.published IS NOT NULL AND ($since IS NULL OR s.published >= $since)
  WITH DISTINCT s.published AS date ORDER BY date DESC LIMIT $limit
  RETURN collect(date) AS dates
}
// entities also take 'undated' (sorted first, as a null date is), only without $since
WITH dates, CASE WHEN $since IS NULL THEN ['undated'] + dates ELSE dates END AS entity_dates
// Each date's records are counted through the index (a lookup per date), the dates walked newest first until $limit
// records are covered, and only the records of the dates down to that floor are looked up again and sorted: the
// engine sorts slowly, so the fewer rows reach ORDER BY the better.
CALL (entity_dates) {
  UNWIND entity_dates AS date
  CALL (date) {
    MATCH (n:Entity {newest_source: date})
    RETURN count(n) AS records
  }
  WITH date, records ORDER BY date DESC
  WITH collect([date, records]) AS counted
  // [records covered, lowest date needed]
  RETURN reduce(acc = [0, null], d IN counted | CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END)
         AS entity_cover
}
CALL (dates) {
  UNWIND dates AS date
  CALL (date) {
    MATCH (x:Entity {out_newest: date})
    RETURN count(x) AS starts
  }
  WITH date, starts ORDER BY date DESC
  WITH collect([date, starts]) AS counted
  RETURN reduce(acc = [0, null], d IN counted | CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END)
         AS start_cover
}
// Dated entities are dated by a Source, so the dates looked up hold every entity dated on or after the lowest of
// them; $limit entities, or every Source date looked up, and they hold the answer.
WITH dates, entity_dates, entity_cover, start_cover, size(dates) < $limit OR entity_cover[0] >= $limit AS entities_found,
     // $limit start nodes whose out_newest is one of the dates down to the floor: each has a relationship of exactly
     // that date (out_newest is kept exact; the proof is in statetech.graph.provenance), so the floor bounds the
     // answer from below and every relationship of the answer starts at one of them. Every date looked up: every
     // dated relationship (on or after $since) starts at one of them.
     size(dates) < $limit OR start_cover[0] >= $limit AS starts_found
CALL (dates, entity_dates, entity_cover, start_cover, entities_found, starts_found) {
  WITH entity_dates, entity_cover, entities_found WHERE entities_found
  UNWIND [d IN entity_dates WHERE d >= entity_cover[1]] AS date
  MATCH (n:Entity {newest_source: date})
  WITH n ORDER BY n.newest_source DESC, n.id LIMIT $limit
  RETURN n.newest_source AS newest, 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description,
         n.confidence AS confidence, n.sources AS sources
  UNION ALL
  // fallback: each entity's date counted (a grouping, as cheap as a scan), the dates walked newest first until $limit
  // entities are covered, and only the entities dated on or after that floor sorted
  WITH entities_found WHERE NOT entities_found
  MATCH (n:Entity)
  WHERE n.newest_source IS NOT NULL AND ($since IS NULL OR (n.newest_source >= $since AND n.newest_source <> 'undated'))
  // the flag is carried as a grouping key: a collect() over no rows still gives one row, which would run the rest
  WITH entities_found, n.newest_source AS date, count(*) AS records
  WITH entities_found, date, records ORDER BY date DESC
  WITH entities_found, collect([date, records]) AS counted
  WITH reduce(acc = [0, null], d IN counted | CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END)[1]
       AS floor
  MATCH (n:Entity)
  WHERE n.newest_source >= floor AND ($since IS NULL OR (n.newest_source >= $since AND n.newest_source <> 'undated'))
  WITH n ORDER BY n.newest_source DESC, n.id LIMIT $limit
  RETURN n.newest_source AS newest, 'entity' AS record, n.id AS id, n.kind AS kind, n.name AS description,
         n.confidence AS confidence, n.sources AS sources
  UNION ALL
  // relationships whose sources carry no date sort first, as a null date does; only without $since
  MATCH (x:Entity)
  WHERE $since IS NULL AND x.out_undated = true
  MATCH (x)-[r]->(y:Entity)
  WHERE r.newest_source = 'undated'
  WITH x, r, y ORDER BY r.id LIMIT $limit
  RETURN r.newest_source AS newest, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
  UNION ALL
  WITH dates, start_cover, starts_found WHERE starts_found
  UNWIND [d IN dates WHERE d >= start_cover[1]] AS date
  MATCH (x:Entity {out_newest: date})
  MATCH (x)-[r]->(y:Entity)
  WHERE r.newest_source >= start_cover[1] AND r.newest_source <> 'undated' AND ($since IS NULL OR r.newest_source >= $since)
  WITH x, r, y ORDER BY r.newest_source DESC, r.id LIMIT $limit
  RETURN r.newest_source AS newest, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
  UNION ALL
  // fallback: start nodes per out_newest, walked newest first until $limit start nodes are covered: that date is the
  // floor (same proof); fewer start nodes: no floor
  WITH starts_found WHERE NOT starts_found
  MATCH (x:Entity)
  WHERE x.out_newest IS NOT NULL AND ($since IS NULL OR x.out_newest >= $since)
  WITH starts_found, x.out_newest AS date, count(*) AS counted
  WITH starts_found, date, counted ORDER BY date DESC
  WITH starts_found, collect([date, counted]) AS counted
  WITH reduce(acc = [0, null], d IN counted | CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END)
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
