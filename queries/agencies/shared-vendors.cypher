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
WITH v, a ORDER BY a.id
WITH v, collect(a.id) AS agencies
WHERE size(agencies) >= $min_agencies
RETURN v.id AS vendor, v.name AS name, size(agencies) AS agency_count, agencies
ORDER BY agency_count DESC, vendor
LIMIT $limit
