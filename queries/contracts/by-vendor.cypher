// name: contracts/by-vendor
// title: Contracts won by a company and its subsidiaries
// description: >-
//   Contracts awarded to the company or any of its subsidiaries, as prime contractor or subcontractor, and contracts
//   that buy one of their products through someone else (a reseller), biggest obligation first, with the awarding
//   agencies and the sources.
// params:
//   company: {type: entity, kind: Company, required: true, help: "company id or name, e.g. company:microsoft"}
//   limit: {type: int, default: 100, help: "at most this many rows"}
// returns: [contract, name, vendor, role, agencies, award_type, obligated_usd, subcontract_usd, start_date, confidence, sources]
MATCH (:Company {id: $company})<-[:SUBSIDIARY_OF*0..6]-(v:Company)
CALL (v) {
  MATCH (v)<-[r:AWARDED_TO]-(c:Contract)
  RETURN c, 'prime' AS role, null AS subcontract_usd
  UNION
  MATCH (v)<-[r:SUBCONTRACTED_TO]-(c:Contract)
  RETURN c, 'subcontractor' AS role, r.amount_usd AS subcontract_usd
  UNION
  MATCH (v)-[:PROVIDES]->(:Product)<-[:FOR_PRODUCT]-(c:Contract)
  WHERE NOT EXISTS { MATCH (c)-[:AWARDED_TO|SUBCONTRACTED_TO]->(w:Company) WHERE w.id = v.id }
  RETURN c, 'product' AS role, null AS subcontract_usd
}
WITH DISTINCT c, v, role, subcontract_usd
// the order does not depend on the awarding agencies, so only the rows that make the list look them up
WITH c, v, role, subcontract_usd
ORDER BY coalesce(c.obligated_usd, -1.0) DESC, c.id, v.id, role, coalesce(subcontract_usd, -1.0) LIMIT $limit
CALL (c) {
  MATCH (c)<-[:AWARDED]-(a:Agency)
  WITH DISTINCT a ORDER BY a.id
  RETURN collect(a.id) AS agencies
}
RETURN c.id AS contract, c.name AS name, v.id AS vendor, role, agencies, c.award_type AS award_type,
       c.obligated_usd AS obligated_usd, subcontract_usd, c.start_date AS start_date, c.confidence AS confidence,
       c.sources AS sources
ORDER BY coalesce(c.obligated_usd, -1.0) DESC, c.id, v.id, role, coalesce(subcontract_usd, -1.0)
LIMIT $limit
