// name: contracts/task-orders
// title: Task and delivery orders under a contract
// description: >-
//   The orders placed under an IDV, BPA or other parent award (and orders under those), with who placed them, the
//   vendor, the values and the sources, in date order. Compare the sum of obligations with the parent's own figure.
// params:
//   contract: {type: entity, kind: Contract, required: true, help: "parent award id or name"}
// returns: [task_order, name, depth, award_type, placed_by, vendors, obligated_usd, potential_usd, start_date, confidence, sources]
MATCH path = (:Contract {id: $contract})<-[:CHILD_OF*1..4]-(o:Contract)
WITH o, min(length(path)) AS depth
CALL (o) {
  MATCH (o)<-[:AWARDED]-(a:Agency)
  WITH DISTINCT a ORDER BY a.id
  RETURN collect(a.id) AS placed_by
}
CALL (o) {
  MATCH (o)-[:AWARDED_TO]->(v:Company)
  WITH DISTINCT v ORDER BY v.id
  RETURN collect(v.id) AS vendors
}
RETURN o.id AS task_order, o.name AS name, depth, o.award_type AS award_type, placed_by, vendors,
       o.obligated_usd AS obligated_usd, o.potential_usd AS potential_usd, o.start_date AS start_date,
       o.confidence AS confidence, o.sources AS sources
ORDER BY coalesce(start_date, ''), task_order
