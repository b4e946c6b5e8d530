// Embedded-engine form of records/unsourced.cypher: Grafeo runs an OPTIONAL MATCH on a per-row id as a scan of every
// Source node (88 s at 50k nodes), so the known source ids are collected once and each record's list checked against
// them. Same rows; the parity tests compare the two forms.
MATCH (s:Source)
WITH collect(s.id) AS known
CALL (known) {
  MATCH (n:Entity)
  WITH n, coalesce(n.sources, []) AS cited, known
  WITH n, cited, [sid IN cited WHERE NOT sid IN known] AS missing
  WHERE size(cited) = 0 OR size(missing) > 0
  RETURN 'entity' AS record, n.id AS id, n.kind AS kind,
         CASE WHEN size(cited) = 0 THEN [null] ELSE missing END AS missing
  UNION ALL
  MATCH (:Entity)-[r]->(:Entity)
  WITH r, coalesce(r.sources, []) AS cited, known
  WITH r, cited, [sid IN cited WHERE NOT sid IN known] AS missing
  WHERE size(cited) = 0 OR size(missing) > 0
  RETURN 'relationship' AS record, r.id AS id, type(r) AS kind,
         CASE WHEN size(cited) = 0 THEN [null] ELSE missing END AS missing
}
UNWIND missing AS sid
WITH record, id, kind, coalesce(sid, '(no source cited)') AS missing ORDER BY missing
RETURN record, id, kind, collect(missing) AS missing_sources
ORDER BY record, id
