// name: entities/neighbourhood
// title: Neighbourhood of an entity
// description: >-
//   Every entity one hop from the given one, with the relationship, its direction, dates, confidence and sources.
// params:
//   entity: {type: entity, required: true, help: "entity id or name, e.g. agency:ice or 'Microsoft'"}
// returns: [relationship, direction, neighbour, kind, name, start_date, end_date, confidence, sources]
MATCH (n:Entity {id: $entity})-[r]-(m:Entity)
// statetech stores each relationship's start id as r.from; startNode(r) is the fallback for edges made elsewhere
// (and costs a scan of the edges on the embedded engine, so it is only evaluated when r.from is missing)
RETURN type(r) AS relationship,
       CASE WHEN coalesce(r.from, startNode(r).id) = n.id THEN 'out' ELSE 'in' END AS direction,
       m.id AS neighbour, m.kind AS kind, m.name AS name, r.start_date AS start_date, r.end_date AS end_date,
       r.confidence AS confidence, r.sources AS sources
ORDER BY relationship, direction, neighbour, r.id
