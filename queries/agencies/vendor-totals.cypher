// name: agencies/vendor-totals
// title: Obligated and potential value by vendor for an agency
// description: >-
//   Per vendor, what the agency (and its sub-agencies) obligated and could spend, counting every task order under an
//   IDV once: obligations are summed over every award, an IDV's included (what is obligated on an IDV is booked on
//   the IDV itself; its orders carry their own obligations), and potential value over the top-level awards (an
//   IDV's ceiling already covers its orders). Orders placed under the agency's IDVs count even when the order names
//   no awarding agency. A figure no contract records is null (unknown), not 0. Contracts without a vendor are
//   grouped under an empty vendor; 'unvalued' counts contracts with neither figure recorded.
// params:
//   agency: {type: entity, kind: Agency, required: true, help: "agency id or name"}
//   include_sub_agencies: {type: bool, default: true, help: "also awards by agencies PART_OF this one"}
// returns: [vendor, name, contracts, task_orders, obligated_usd, potential_usd, unvalued, contract_ids]
MATCH (top:Agency {id: $agency})<-[:PART_OF*0..6]-(a:Agency)-[:AWARDED]->(awarded:Contract)
WHERE $include_sub_agencies OR a.id = top.id
WITH DISTINCT awarded
MATCH (awarded)<-[:CHILD_OF*0..4]-(c:Contract)
WITH DISTINCT c
WITH collect(c.id) AS ids
UNWIND ids AS id
MATCH (c:Contract {id: id})
WITH c, ids,
     EXISTS { MATCH (c)-[:CHILD_OF]->(parent:Contract) WHERE parent.id IN ids } AS is_order
CALL (c) {
  MATCH (c)-[:AWARDED_TO]->(v:Company)
  RETURN collect(DISTINCT v) AS vendors
}
UNWIND CASE WHEN size(vendors) = 0 THEN [null] ELSE vendors END AS v
WITH v, c, is_order, CASE WHEN is_order THEN null ELSE c.potential_usd END AS ceiling ORDER BY c.id
WITH v, count(c) AS contracts, sum(CASE WHEN is_order THEN 1 ELSE 0 END) AS task_orders,
     sum(coalesce(c.obligated_usd, 0.0)) AS obligated_sum, count(c.obligated_usd) AS obligated_known,
     sum(coalesce(ceiling, 0.0)) AS potential_sum, count(ceiling) AS potential_known,
     sum(CASE WHEN c.obligated_usd IS NULL AND c.potential_usd IS NULL THEN 1 ELSE 0 END) AS unvalued,
     collect(c.id) AS contract_ids
WITH v, contracts, task_orders, unvalued, contract_ids,
     CASE WHEN obligated_known = 0 THEN null ELSE obligated_sum END AS obligated_usd,
     CASE WHEN potential_known = 0 THEN null ELSE potential_sum END AS potential_usd
RETURN v.id AS vendor, v.name AS name, contracts, task_orders, obligated_usd, potential_usd, unvalued,
       contract_ids
ORDER BY coalesce(obligated_usd, -1.0) DESC, coalesce(vendor, '')
