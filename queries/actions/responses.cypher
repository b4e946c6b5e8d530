// name: actions/responses
// title: Responses to employee actions
// description: >-
//   How companies and people publicly responded to employee actions, with the date of the action and of the
//   response and the sources; optionally only responses by one company (or its people and subsidiaries).
// params:
//   company: {type: entity, kind: Company, help: "only responses by this company, its subsidiaries or people who work for them"}
// returns: [action, action_name, action_date, responder, responder_name, responder_kind, response_date, confidence, sources]
MATCH (ac:EmployeeAction)<-[resp:RESPONDED_TO]-(r:Entity)
// written from the actions' side: the embedded engine starts where the text starts, and there are far fewer
// employee actions than entities (0.7 ms instead of 24 ms at 100k nodes; Neo4j picks its own starting side)
WHERE $company IS NULL
   OR EXISTS { MATCH (r)-[:SUBSIDIARY_OF*0..6]->(:Company {id: $company}) }
   OR EXISTS { MATCH (r)-[:WORKS_FOR]->(:Company)-[:SUBSIDIARY_OF*0..6]->(:Company {id: $company}) }
RETURN ac.id AS action, ac.name AS action_name, ac.start_date AS action_date, r.id AS responder,
       r.name AS responder_name, r.kind AS responder_kind, resp.start_date AS response_date,
       resp.confidence AS confidence, resp.sources AS sources
ORDER BY coalesce(ac.start_date, ''), ac.id, r.id, resp.id
