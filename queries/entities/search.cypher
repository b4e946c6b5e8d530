// name: entities/search
// title: Find entities by name
// description: Entities whose name or alias contains the text (case-insensitive), to find the id to use elsewhere.
// params:
//   text: {type: string, required: true, help: "part of a name or alias, e.g. 'azure'"}
//   kind: {type: string, choices: [Agency, Company, Contract, EmployeeAction, Policy, Person, Product], help: "only this kind"}
//   limit: {type: int, default: 50, help: "at most this many rows"}
// returns: [id, kind, name, aliases]
MATCH (n:Entity)
// n.search_text holds the id, name and aliases lower-cased (kept at write time): Neo4j answers CONTAINS on it from a
// text index, and the embedded engine scans one string per node; the name and aliases are then checked themselves.
WHERE n.search_text CONTAINS toLower($text)
  AND (toLower(n.name) CONTAINS toLower($text)
       OR any(alias IN coalesce(n.aliases, []) WHERE toLower(alias) CONTAINS toLower($text)))
  AND ($kind IS NULL OR n.kind = $kind)
RETURN n.id AS id, n.kind AS kind, n.name AS name, coalesce(n.aliases, []) AS aliases
ORDER BY id
LIMIT $limit
