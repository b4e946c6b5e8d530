// name: companies/family
// title: Corporate family of a company
// description: >-
//   The company's parents and subsidiaries through SUBSIDIARY_OF, each with its distance, the chain of ids that
//   links it to the company, and the sources of the nearest link.
// params:
//   company: {type: entity, kind: Company, required: true, help: "company id or name"}
// returns: [company, name, relation, depth, chain, confidence, sources]
MATCH (c:Company {id: $company})
CALL (c) {
  MATCH path = (c)<-[:SUBSIDIARY_OF*1..6]-(m:Company)
  RETURN m, 'subsidiary' AS relation, path
  UNION
  MATCH path = (c)-[:SUBSIDIARY_OF*1..6]->(m:Company)
  RETURN m, 'parent' AS relation, path
}
WITH m, relation, path, relationships(path) AS links
RETURN m.id AS company, m.name AS name, relation, length(path) AS depth, [n IN nodes(path) | n.id] AS chain,
       links[size(links) - 1].confidence AS confidence, links[size(links) - 1].sources AS sources
ORDER BY relation, length(path), m.id, reduce(key = '', n IN nodes(path) | key + n.id + ' ')
