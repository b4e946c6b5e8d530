// name: agencies/shared-vendors
// title: Vendors shared by several agencies
// description: >-
//   Companies that sell to at least min_agencies different agencies, through contracts, subcontracts, contracts for
//   their products, or recorded product use; most agencies first, with the agency ids. It reads each company's
//   agency_count, which statetech stores on every write (statetech.graph.vendors), and gathers the agency ids only
//   for the companies listed. Changes made outside statetech (e.g. in Neo4j Browser) are seen after
//   'statetech db refresh'; a store written by an older statetech is refused until then.
// params:
//   min_agencies: {type: int, default: 2, help: "at least this many distinct agencies"}
//   limit: {type: int, default: 50, help: "at most this many rows"}
// returns: [vendor, name, agency_count, agencies]
// derived_fields: true
MATCH (v:Company)
// the stored count is the size of the set gathered below (0 when none: such a company is never listed, whatever
// min_agencies says). First the lowest count that makes the list (the $limit-th highest), then the companies with at
// least that count, in order: sorting every company by count and id at once cost the embedded engine 370 ms at 1M
// nodes, the count alone 80 ms; Neo4j reads both steps from its range index on agency_count, in index order
WHERE v.agency_count >= $min_agencies AND v.agency_count > 0
WITH v.agency_count AS n ORDER BY n DESC LIMIT $limit
WITH min(n) AS floor
MATCH (v:Company)
WHERE v.agency_count >= floor
WITH v ORDER BY v.agency_count DESC, v.id LIMIT $limit
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
WITH v, a ORDER BY a.id
WITH v, collect(a.id) AS agencies
RETURN v.id AS vendor, v.name AS name, v.agency_count AS agency_count, agencies
ORDER BY agency_count DESC, vendor
