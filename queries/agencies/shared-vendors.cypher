// name: agencies/shared-vendors
// title: Vendors shared by several agencies
// description: >-
//   Companies that sell to at least min_agencies different agencies, through contracts, subcontracts, contracts for
//   their products, or recorded product use; most agencies first, with the agency ids.
// params:
//   min_agencies: {type: int, default: 2, help: "at least this many distinct agencies"}
//   limit: {type: int, default: 50, help: "at most this many rows"}
// returns: [vendor, name, agency_count, agencies]
CALL () {
  MATCH (a:Agency)-[:AWARDED]->(:Contract)-[:AWARDED_TO|SUBCONTRACTED_TO]->(v:Company)
  RETURN a, v
  UNION
  MATCH (a:Agency)-[:AWARDED]->(:Contract)-[:FOR_PRODUCT]->(:Product)<-[:PROVIDES]-(v:Company)
  RETURN a, v
  UNION
  MATCH (a:Agency)-[:USES]->(:Product)<-[:PROVIDES]-(v:Company)
  RETURN a, v
}
// the union above holds each (agency, vendor) pair once, so count(a) is the number of agencies; only the vendors
// that make the list then gather their agency ids, sorted (sorting every pair by agency first was the slow part)
WITH v, count(a) AS agency_count
WHERE agency_count >= $min_agencies
WITH v, agency_count ORDER BY agency_count DESC, v.id LIMIT $limit
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
WITH v, agency_count, a ORDER BY a.id
WITH v, agency_count, collect(a.id) AS agencies
RETURN v.id AS vendor, v.name AS name, agency_count, agencies
ORDER BY agency_count DESC, vendor
