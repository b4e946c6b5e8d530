// title: Neighbourhood of an entity
// description: Every entity one hop from the given one, with the relationship, its direction, confidence and sources.
// params:
//   entity: {type: entity, required: true, help: "entity id or name, e.g. agency:ice or 'Microsoft'"}
// returns: [relationship, direction, neighbour, kind, name, confidence, sources]
MATCH (n:Entity {id: $entity})-[r]-(m:Entity)
RETURN type(r) AS relationship,
       CASE WHEN startNode(r) = n THEN 'out' ELSE 'in' END AS direction,
       m.id AS neighbour, m.kind AS kind, m.name AS name, r.confidence AS confidence, r.sources AS sources
ORDER BY relationship, neighbour
