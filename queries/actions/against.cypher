// name: actions/against
// title: Employee actions against a company, contract or agency, over time
// description: >-
//   Employee actions (letters, petitions, walkouts, resignations, ...) aimed at the entity or organised at it, oldest
//   first. For a company this includes its subsidiaries and their contracts and products; for a contract, the orders
//   under it. Each row is one link (TARGETS or ORGANIZED_AT) with the sources of the action and of the link.
// params:
//   target: {type: entity, kind: [Company, Contract, Agency, Product, Policy], required: true, help: "id or name of what the actions are against"}
//   since: {type: date, help: "only actions starting on or after this date"}
//   until: {type: date, help: "only actions starting on or before this date"}
// returns: [action, name, action_type, start_date, participants, link, via, confidence, sources, link_sources]
MATCH (t:Entity {id: $target})
OPTIONAL MATCH (t)<-[:SUBSIDIARY_OF*1..6]-(sub:Company)
WITH t, collect(sub) AS subsidiaries
UNWIND subsidiaries + [t] AS member
CALL (member) {
  RETURN member AS x
  UNION
  MATCH (member)<-[:AWARDED_TO|SUBCONTRACTED_TO]-(x:Contract)
  RETURN x
  UNION
  MATCH (member)-[:PROVIDES]->(x:Product)
  RETURN x
  UNION
  MATCH (member)<-[:CHILD_OF*1..4]-(x:Contract)
  RETURN x
}
WITH DISTINCT x
MATCH (x)<-[l:TARGETS|ORGANIZED_AT]-(ac:EmployeeAction)
WHERE ($since IS NULL OR ac.start_date >= $since)
  AND ($until IS NULL OR ac.start_date <= $until)
RETURN ac.id AS action, ac.name AS name, ac.action_type AS action_type, ac.start_date AS start_date,
       ac.participants AS participants, type(l) AS link, x.id AS via, ac.confidence AS confidence,
       ac.sources AS sources, l.sources AS link_sources
ORDER BY coalesce(ac.start_date, ''), ac.id, type(l), x.id, l.id
