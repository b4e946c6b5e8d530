// name: policies/governing
// title: Policies that govern a company or agency, and actions that cite them
// description: >-
//   Policies that govern the entity directly, that it issued, or that govern its products or contracts; each with how
//   it applies, the record it applies through, the employee actions that cite it, and the sources of the link.
// params:
//   entity: {type: entity, kind: [Company, Agency, Product, Contract], required: true, help: "company or agency id or name"}
// returns: [policy, name, policy_type, applies, via, start_date, cited_by, confidence, sources]
MATCH (e:Entity {id: $entity})
CALL (e) {
  MATCH (e)<-[l:GOVERNS]-(p:Policy)
  RETURN p, 'governs it' AS applies, e.id AS via, l.confidence AS confidence, l.sources AS sources
  UNION
  MATCH (e)-[l:ISSUED]->(p:Policy)
  RETURN p, 'issued by it' AS applies, e.id AS via, l.confidence AS confidence, l.sources AS sources
  UNION
  MATCH (e)-[:PROVIDES|USES]->(x:Product)<-[l:GOVERNS]-(p:Policy)
  RETURN p, 'governs its product' AS applies, x.id AS via, l.confidence AS confidence, l.sources AS sources
  UNION
  MATCH (e)<-[:AWARDED_TO|SUBCONTRACTED_TO]-(x:Contract)<-[l:GOVERNS]-(p:Policy)
  RETURN p, 'governs its contract' AS applies, x.id AS via, l.confidence AS confidence, l.sources AS sources
  UNION
  MATCH (e)-[:AWARDED]->(x:Contract)<-[l:GOVERNS]-(p:Policy)
  RETURN p, 'governs its contract' AS applies, x.id AS via, l.confidence AS confidence, l.sources AS sources
}
CALL (p) {
  MATCH (p)<-[:CITES]-(ac:EmployeeAction)
  WITH DISTINCT ac ORDER BY ac.id
  RETURN collect(ac.id) AS cited_by
}
RETURN p.id AS policy, p.name AS name, p.policy_type AS policy_type, applies, via, p.start_date AS start_date,
       cited_by, confidence, sources
ORDER BY policy, applies, via
