// name: paths/between
// title: How two entities are connected
// description: >-
//   Every shortest path (up to 6 hops, in either direction) between the two entities: the entities along it, the
//   relationship type of each hop with its direction, and the sources of each hop. 'statetech path A B' prints the
//   same with dates and source titles.
// params:
//   from: {type: entity, required: true, help: "id or name of one end"}
//   to: {type: entity, required: true, help: "id or name of the other end"}
// returns: [hops, entities, names, relationships, hop_sources]
MATCH (a:Entity {id: $from})
MATCH (b:Entity {id: $to})
WHERE a.id <> b.id
MATCH path = allShortestPaths((a)-[*..6]-(b))
WITH path, nodes(path) AS ns, relationships(path) AS rs
RETURN length(path) AS hops,
       [n IN ns | n.id] AS entities,
       [n IN ns | n.name] AS names,
       // r.from is the start id statetech stores on every relationship; startNode() only for edges made elsewhere
       [i IN range(0, size(rs) - 1) |
          CASE WHEN coalesce(rs[i].from, startNode(rs[i]).id) = ns[i].id
               THEN '-[' + type(rs[i]) + ']->' ELSE '<-[' + type(rs[i]) + ']-' END
       ] AS relationships,
       [r IN rs | r.sources] AS hop_sources
ORDER BY reduce(key = '', n IN ns | key + n.id + ' '), reduce(key = '', r IN rs | key + r.id + ' ')
