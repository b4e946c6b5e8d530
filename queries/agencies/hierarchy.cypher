// name: agencies/hierarchy
// title: Parents and components of an agency
// description: >-
//   The agencies above the given one and the components below it through PART_OF, each with its distance, the chain
//   of ids and the sources of the nearest link; plus agencies it shares data with, in either direction.
// params:
//   agency: {type: entity, kind: Agency, required: true, help: "agency id or name"}
// returns: [agency, name, relation, depth, chain, confidence, sources]
MATCH (x:Agency {id: $agency})
CALL (x) {
  MATCH path = (x)-[:PART_OF*1..6]->(m:Agency)
  RETURN m, 'parent' AS relation, path
  UNION
  MATCH path = (x)<-[:PART_OF*1..6]-(m:Agency)
  RETURN m, 'component' AS relation, path
  UNION
  MATCH path = (x)-[:SHARES_DATA_WITH]->(m:Agency)
  RETURN m, 'shares data with' AS relation, path
  UNION
  MATCH path = (x)<-[:SHARES_DATA_WITH]-(m:Agency)
  RETURN m, 'receives data from' AS relation, path
}
WITH m, relation, path, relationships(path) AS links
RETURN m.id AS agency, m.name AS name, relation, length(path) AS depth, [n IN nodes(path) | n.id] AS chain,
       links[size(links) - 1].confidence AS confidence, links[size(links) - 1].sources AS sources
ORDER BY relation, length(path), m.id, reduce(key = '', n IN nodes(path) | key + n.id + ' ')
