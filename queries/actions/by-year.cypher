// name: actions/by-year
// title: Employee actions per year
// description: >-
//   How many employee actions started each year, by type, with the sum of the participant counts that are known and
//   the action ids; optionally only actions against one company (aimed at it, its subsidiaries, their contracts or
//   products, or organised at them). Actions without a date are counted under an empty year.
// params:
//   company: {type: entity, kind: Company, help: "only actions targeting or organised at this company or its subsidiaries"}
// returns: [year, action_type, actions, known_participants, action_ids]
CALL () {
  // every action once, in the order of the index on its id (Neo4j then sorts nothing: 80,000 actions at 1M nodes),
  // without the set the company's union builds (a third less work on the embedded engine for the whole graph); the
  // two parts never both give rows
  MATCH (ac:EmployeeAction)
  WHERE $company IS NULL AND ac.id IS NOT NULL
  WITH ac ORDER BY ac.id
  RETURN coalesce(substring(ac.start_date, 0, 4), '') AS year, coalesce(ac.action_type, 'other') AS action_type,
         count(ac) AS actions, sum(coalesce(ac.participants, 0)) AS known_participants, collect(ac.id) AS action_ids
  UNION ALL
  MATCH (co:Company {id: $company})
  CALL (co) {
    MATCH (co)<-[:SUBSIDIARY_OF*0..6]-(:Company)<-[:TARGETS|ORGANIZED_AT]-(ac:EmployeeAction)
    RETURN ac
    UNION
    MATCH (co)<-[:SUBSIDIARY_OF*0..6]-(:Company)<-[:AWARDED_TO|SUBCONTRACTED_TO]-(:Contract)
          <-[:TARGETS]-(ac:EmployeeAction)
    RETURN ac
    UNION
    MATCH (co)<-[:SUBSIDIARY_OF*0..6]-(:Company)-[:PROVIDES]->(:Product)<-[:TARGETS]-(ac:EmployeeAction)
    RETURN ac
  }
  WITH ac ORDER BY ac.id
  RETURN coalesce(substring(ac.start_date, 0, 4), '') AS year, coalesce(ac.action_type, 'other') AS action_type,
         count(ac) AS actions, sum(coalesce(ac.participants, 0)) AS known_participants, collect(ac.id) AS action_ids
}
RETURN year, action_type, actions, known_participants, action_ids
ORDER BY year, action_type
