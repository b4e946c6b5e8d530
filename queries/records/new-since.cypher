// name: records/new-since
// title: What is new since a date
// description: >-
//   Entities and relationships added or changed after the given day (their 'added' or 'updated' date is later than
//   it), newest change first, with whether each is new or changed: what to re-read before updating a published
//   finding. A month or a year means after its end ("2026-11": added or changed in December 2026 or later).
//   The embedded store finds these records through flags statetech keeps whenever it writes them; records changed by
//   something other than statetech (a hand edit) are seen there only after 'statetech db refresh'.
// derived_fields: true
// params:
//   since: {type: date, required: true, help: "the day, YYYY-MM-DD (or YYYY-MM, YYYY); records added or updated after it"}
//   record: {type: string, choices: [entity, relationship], help: "only entities or only relationships"}
//   limit: {type: int, default: 1000, help: "at most this many rows"}
// returns: [changed, change, added, updated, record, id, kind, description, confidence, sources]
CALL () {
  MATCH (n:Entity)
  // 'added' and 'updated' are full days (YYYY-MM-DD), so "the first size($since) characters are later than $since"
  // is "later than $since + '~'" ('~' sorts after every digit and '-'): ranges the indexes on added and updated
  // answer; the tests as written stay, so the answer does not rest on that equivalence
  WHERE (n.added > $since + '~' OR n.updated > $since + '~')
    AND (substring(n.added, 0, size($since)) > $since OR substring(n.updated, 0, size($since)) > $since)
    AND ($record IS NULL OR $record = 'entity')
  // each part keeps only its first $limit rows in the final order (newest change first, then 'entity' before
  // 'relationship', then id), so no row of the answer is lost
  WITH n ORDER BY CASE WHEN n.updated IS NOT NULL AND (n.added IS NULL OR n.updated > n.added)
                       THEN n.updated ELSE n.added END DESC, n.id
  LIMIT $limit
  RETURN n.added AS added, n.updated AS updated, 'entity' AS record, n.id AS id, n.kind AS kind,
         n.name AS description, n.confidence AS confidence, n.sources AS sources
  UNION ALL
  // relationships with an added or updated day come from the full-text index on every type's days (ranges of exact
  // terms): they are the curated ones, however many imported relationships the graph holds
  CALL db.index.fulltext.queryRelationships('relationship_history',
                                            'added:{"' + $since + '~" TO *] OR updated:{"' + $since + '~" TO *]')
  YIELD relationship
  WITH relationship AS r
  MATCH (x:Entity)-[r]->(y:Entity)
  WHERE (substring(r.added, 0, size($since)) > $since OR substring(r.updated, 0, size($since)) > $since)
    AND ($record IS NULL OR $record = 'relationship')
  WITH x, r, y ORDER BY CASE WHEN r.updated IS NOT NULL AND (r.added IS NULL OR r.updated > r.added)
                             THEN r.updated ELSE r.added END DESC, r.id
  LIMIT $limit
  RETURN r.added AS added, r.updated AS updated, 'relationship' AS record, r.id AS id, type(r) AS kind,
         x.name + ' ' + type(r) + ' ' + y.name AS description, r.confidence AS confidence, r.sources AS sources
}
WITH added, updated, record, id, kind, description, confidence, sources,
     CASE WHEN substring(added, 0, size($since)) > $since THEN 'added' ELSE 'updated' END AS change,
     CASE WHEN updated IS NOT NULL AND (added IS NULL OR updated > added) THEN updated ELSE added END AS changed
RETURN changed, change, added, updated, record, id, kind, description, confidence, sources
ORDER BY changed DESC, record, id
LIMIT $limit
