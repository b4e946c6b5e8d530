// name: policies/citations
// title: Employee actions that cite a policy
// description: >-
//   Employee actions that invoke the policy (for example a company's AI principles), oldest first, with what each
//   action targets and the sources of the citation.
// params:
//   policy: {type: entity, kind: Policy, required: true, help: "policy id or name"}
// returns: [action, name, action_type, start_date, targets, confidence, sources]
MATCH (:Policy {id: $policy})<-[c:CITES]-(ac:EmployeeAction)
CALL (ac) {
  MATCH (ac)-[:TARGETS]->(t:Entity)
  WITH DISTINCT t ORDER BY t.id
  RETURN collect(t.id) AS targets
}
RETURN ac.id AS action, ac.name AS name, ac.action_type AS action_type, ac.start_date AS start_date, targets,
       c.confidence AS confidence, c.sources AS sources
ORDER BY coalesce(ac.start_date, ''), ac.id, c.id
