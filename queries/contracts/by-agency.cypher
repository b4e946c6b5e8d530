// name: contracts/by-agency
// title: Contracts awarded by an agency
// description: >-
//   Every contract the agency awarded (and, unless include_sub_agencies is false, every contract its sub-agencies
//   awarded), biggest obligation first, with the vendors it was awarded to, the products it buys, the values and the
//   sources. Contracts without a recorded obligation come last.
// params:
//   agency: {type: entity, kind: Agency, required: true, help: "agency id or name, e.g. agency:ice or ICE"}
//   include_sub_agencies: {type: bool, default: true, help: "also contracts awarded by agencies PART_OF this one"}
//   since: {type: date, help: "only contracts starting on or after this date"}
//   limit: {type: int, default: 100, help: "at most this many rows"}
// returns: [contract, name, awarded_by, vendors, products, award_type, obligated_usd, potential_usd, start_date, end_date, confidence, sources]
MATCH (top:Agency {id: $agency})<-[:PART_OF*0..6]-(a:Agency)-[:AWARDED]->(c:Contract)
WHERE ($include_sub_agencies OR a.id = top.id)
  AND ($since IS NULL OR c.start_date >= $since)
WITH DISTINCT c, a
// the order does not depend on the vendors or products, so only the rows that make the list look them up
WITH c, a ORDER BY coalesce(c.obligated_usd, -1.0) DESC, c.id, a.id LIMIT $limit
CALL (c) {
  MATCH (c)-[:AWARDED_TO]->(v:Company)
  WITH DISTINCT v ORDER BY v.id
  RETURN collect(v.id) AS vendors
}
CALL (c) {
  MATCH (c)-[:FOR_PRODUCT]->(p:Product)
  WITH DISTINCT p ORDER BY p.id
  RETURN collect(p.id) AS products
}
RETURN c.id AS contract, c.name AS name, a.id AS awarded_by, vendors, products, c.award_type AS award_type,
       c.obligated_usd AS obligated_usd, c.potential_usd AS potential_usd, c.start_date AS start_date,
       c.end_date AS end_date, c.confidence AS confidence, c.sources AS sources
ORDER BY coalesce(c.obligated_usd, -1.0) DESC, contract, awarded_by
LIMIT $limit
