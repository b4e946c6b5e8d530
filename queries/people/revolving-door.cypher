// name: people/revolving-door
// title: People who moved between an agency and a vendor
// description: >-
//   People recorded as working for both an agency and a company, with roles and dates and the direction of the move
//   where the dates tell it; vendor_contracts lists contracts the agency (or its components) awarded to that company
//   (or its subsidiaries), empty when the company is not a recorded vendor of the agency.
// params:
//   agency: {type: entity, kind: Agency, help: "only this agency"}
//   company: {type: entity, kind: Company, help: "only this company"}
//   vendors_only: {type: bool, default: false, help: "only companies that are recorded vendors of the agency"}
// returns: [person, name, agency, agency_role, agency_from, agency_until, company, company_role, company_from, company_until, direction, vendor_contracts, sources]
CALL () {
  // one agency's staff, through the index on id when it is given ("$agency IS NULL OR a.id = $agency" read every
  // agency on Neo4j)
  MATCH (a:Agency {id: $agency})<-[wa:WORKS_FOR]-(p:Person)
  RETURN a, wa, p
  UNION ALL
  // else every agency's: from the WORKS_FOR relationships, which Neo4j reads from its relationship type index (98 ms
  // at 1M nodes, against 220 ms for expanding every agency, whose other relationships it reads too); the embedded
  // engine has its own form (revolving-door.grafeo.cypher)
  // (the scan runs only for a row that passes the test: a filter on the scan itself read every one with the agency
  // given)
  WITH $agency AS wanted
  WHERE wanted IS NULL
  CALL (wanted) {
    MATCH ()-[wa:WORKS_FOR]->()
    RETURN wa
  }
  WITH wa, startNode(wa) AS p, endNode(wa) AS a
  WHERE a:Agency AND p:Person
  RETURN a, wa, p
}
MATCH (p)-[wc:WORKS_FOR]->(c:Company)
WHERE $company IS NULL OR c.id = $company
CALL (a, c) {
  MATCH (a)<-[:PART_OF*0..6]-(:Agency)-[:AWARDED]->(k:Contract)
        -[:AWARDED_TO|SUBCONTRACTED_TO]->(:Company)-[:SUBSIDIARY_OF*0..6]->(owner:Company)
  WHERE owner.id = c.id
  WITH DISTINCT k ORDER BY k.id
  RETURN collect(k.id) AS vendor_contracts
}
WITH p, wa, a, wc, c, vendor_contracts
WHERE NOT $vendors_only OR size(vendor_contracts) > 0
RETURN p.id AS person, p.name AS name, a.id AS agency, wa.role AS agency_role, wa.start_date AS agency_from,
       wa.end_date AS agency_until, c.id AS company, wc.role AS company_role, wc.start_date AS company_from,
       wc.end_date AS company_until,
       CASE
         WHEN wa.end_date IS NOT NULL AND wc.start_date IS NOT NULL AND wa.end_date <= wc.start_date
           THEN 'agency to company'
         WHEN wc.end_date IS NOT NULL AND wa.start_date IS NOT NULL AND wc.end_date <= wa.start_date
           THEN 'company to agency'
         ELSE 'unknown or overlapping'
       END AS direction,
       vendor_contracts, wa.sources + [s IN wc.sources WHERE NOT s IN wa.sources] AS sources
ORDER BY p.id, a.id, c.id, coalesce(wa.start_date, ''), coalesce(wc.start_date, ''), wa.id, wc.id
