// name: contracts/largest
// title: Largest contracts
// description: >-
//   The contracts with the largest obligations across all agencies, with the awarding agencies and vendors, optionally
//   of one award type or starting on or after a date. Contracts without a recorded obligation are left out.
// params:
//   award_type: {type: string, choices: [definitive_contract, idv, task_order, delivery_order, bpa, bpa_call, purchase_order, ota, other], help: "only this award type"}
//   since: {type: date, help: "only contracts starting on or after this date"}
//   limit: {type: int, default: 25, help: "at most this many rows"}
// returns: [contract, name, agencies, vendors, award_type, obligated_usd, potential_usd, start_date, confidence, sources]
// derived_fields: true
MATCH (c:Contract)
WHERE c.obligated_usd IS NOT NULL
  AND ($award_type IS NULL OR c.award_type = $award_type)
  AND ($since IS NULL OR c.start_date >= $since)
WITH c ORDER BY c.obligated_usd DESC, c.id LIMIT $limit
CALL (c) {
  MATCH (c)<-[:AWARDED]-(a:Agency)
  WITH DISTINCT a ORDER BY a.id
  RETURN collect(a.id) AS agencies
}
CALL (c) {
  MATCH (c)-[:AWARDED_TO]->(v:Company)
  WITH DISTINCT v ORDER BY v.id
  RETURN collect(v.id) AS vendors
}
RETURN c.id AS contract, c.name AS name, agencies, vendors, c.award_type AS award_type,
       c.obligated_usd AS obligated_usd, c.potential_usd AS potential_usd, c.start_date AS start_date,
       c.confidence AS confidence, c.sources AS sources
ORDER BY obligated_usd DESC, contract
