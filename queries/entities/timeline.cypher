// name: entities/timeline
// title: Timeline of an entity
// description: >-
//   Dated events around the entity, oldest first: its own start and end, the start, end and as-of dates of each of its
//   relationships, and the dates of the contracts, employee actions and policies it is linked to; each with the record
//   and its sources. Undated records are left out.
// params:
//   entity: {type: entity, required: true, help: "entity id or name"}
// returns: [date, event, record, description, confidence, sources]
MATCH (e:Entity {id: $entity})
CALL (e) {
  UNWIND [['start', e.start_date], ['end', e.end_date]] AS pair
  WITH e, pair WHERE pair[1] IS NOT NULL
  RETURN pair[1] AS date, e.kind + ' ' + pair[0] AS event, e.id AS record, e.name AS description,
         e.confidence AS confidence, e.sources AS sources
  UNION ALL
  MATCH (e)-[r]->(m:Entity)
  UNWIND [['from', r.start_date], ['until', r.end_date], ['as of', r.as_of]] AS pair
  WITH e, r, m, pair WHERE pair[1] IS NOT NULL
  RETURN pair[1] AS date, type(r) + ' ' + pair[0] AS event, r.id AS record,
         e.name + ' ' + type(r) + ' ' + m.name AS description, r.confidence AS confidence, r.sources AS sources
  UNION ALL
  MATCH (e)<-[r]-(m:Entity)
  UNWIND [['from', r.start_date], ['until', r.end_date], ['as of', r.as_of]] AS pair
  WITH e, r, m, pair WHERE pair[1] IS NOT NULL
  RETURN pair[1] AS date, type(r) + ' ' + pair[0] AS event, r.id AS record,
         m.name + ' ' + type(r) + ' ' + e.name AS description, r.confidence AS confidence, r.sources AS sources
  UNION ALL
  MATCH (e)-[]-(m:Entity)
  WHERE m.start_date IS NOT NULL AND (m:Contract OR m:EmployeeAction OR m:Policy)
  RETURN DISTINCT m.start_date AS date, m.kind AS event, m.id AS record, m.name AS description,
         m.confidence AS confidence, m.sources AS sources
}
RETURN date, event, record, description, confidence, sources
ORDER BY date, record, event
