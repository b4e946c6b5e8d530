// name: records/known-on
// title: What the dataset knew on a date
// description: >-
//   Entities and relationships that had been added to the dataset on or before the given day (their 'added' date),
//   oldest first: the graph as it stood then, to check what a published finding could have relied on. Records with
//   no 'added' date (e.g. imported rows) are left out. The records are shown as they are now; 'updated' says whether
//   one changed after that day. A month or a year means up to its end ("2026-11": added in November 2026 or before).
//   The embedded store finds these records through flags statetech keeps whenever it writes them; records changed by
//   something other than statetech (a hand edit) are seen there only after 'statetech db refresh'.
// derived_fields: true
// params:
//   date: {type: date, required: true, help: "the day, YYYY-MM-DD (or YYYY-MM, YYYY); records added on or before it"}
//   record: {type: string, choices: [entity, relationship], help: "only entities or only relationships"}
//   limit: {type: int, default: 1000, help: "at most this many rows"}
// returns: [added, updated, record, id, kind, description, confidence, sources]
CALL () {
  MATCH (n:Entity)
  // 'added' is a full day (YYYY-MM-DD), so "its first size($date) characters <= $date" is "added <= $date + '~'"
  // ('~' sorts after every digit and '-'): a range the index on added answers, in added order; the first test stays
  // as written so the answer does not rest on that equivalence
  WHERE n.added <= $date + '~' AND substring(n.added, 0, size($date)) <= $date
    AND ($record IS NULL OR $record = 'entity')
  // each part keeps only its first $limit rows in the final order (entities and relationships sort by added, then
  // 'entity' before 'relationship', then id), so no row of the answer is lost
  WITH n ORDER BY n.added, n.id LIMIT $limit
  RETURN n.added AS added, n.updated AS updated, 'entity' AS record, n.id AS id, n.kind AS kind,
         n.name AS description, n.confidence AS confidence, n.sources AS sources
  UNION ALL
  // relationships with an added day come from the full-text index on every type's added and updated days (a range
  // of exact terms): they are the curated ones, however many imported relationships the graph holds
  CALL db.index.fulltext.queryRelationships('relationship_history', 'added:[* TO "' + $date + '~"]') YIELD relationship
  WITH relationship AS r
  MATCH (x:Entity)-[r]->(y:Entity)
  WHERE substring(r.added, 0, size($date)) <= $date AND ($record IS NULL OR $record = 'relationship')
  WITH x, r, y ORDER BY r.added, r.id LIMIT $limit
  RETURN r.added AS added, r.updated AS updated, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
RETURN added, updated, record, id, kind, description, confidence, sources
ORDER BY added, record, id
LIMIT $limit
