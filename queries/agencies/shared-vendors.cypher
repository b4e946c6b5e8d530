// name: agencies/shared-vendors
// title: Vendors shared by several agencies
// description: >-
//   Companies that sell to at least min_agencies different agencies, through contracts, subcontracts, contracts for
//   their products, or recorded product use; most agencies first, with the agency ids.
// params:
//   min_agencies: {type: int, default: 2, help: "at least this many distinct agencies"}
//   limit: {type: int, default: 50, help: "at most this many rows"}
// returns: [vendor, name, agency_count, agencies]
MATCH (v:Company)
// each vendor's agencies are gathered on their own, a small set per vendor: one set of every (agency, vendor) pair in
// the graph was twice as slow on both stores at 1M nodes / 3M relationships (and at times ran past the embedded
// engine's 30 s limit); only the vendors that make the list then gather their agency ids, sorted
CALL (v) {
  MATCH (v)<-[:AWARDED_TO|SUBCONTRACTED_TO]-(:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a
  UNION
  MATCH (v)-[:PROVIDES]->(:Product)<-[:FOR_PRODUCT]-(:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a
  UNION
  MATCH (v)-[:PROVIDES]->(:Product)<-[:USES]-(a:Agency)
  RETURN a
}
// the union holds each agency once per vendor, so count(a) is the number of agencies
WITH v, count(a) AS agency_count
WHERE agency_count >= $min_agencies
WITH v, v.id AS vendor, agency_count ORDER BY agency_count DESC, vendor LIMIT $limit
CALL (v) {
  MATCH (v)<-[:AWARDED_TO|SUBCONTRACTED_TO]-(:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a
  UNION
  MATCH (v)-[:PROVIDES]->(:Product)<-[:FOR_PRODUCT]-(:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a
  UNION
  MATCH (v)-[:PROVIDES]->(:Product)<-[:USES]-(a:Agency)
  RETURN a
}
WITH v, vendor, agency_count, a ORDER BY a.id
WITH v, vendor, agency_count, collect(a.id) AS agencies
RETURN vendor, v.name AS name, agency_count, agencies
ORDER BY agency_count DESC, vendor
