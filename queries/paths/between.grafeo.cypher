// Embedded-engine form of paths/between.cypher. Grafeo 0.6 answers allShortestPaths by searching out from one end
// only: 1-4 s at 1M nodes / 3M relationships, where 6 hops reach most of the graph. So this form meets in the middle
// when both ends have at most 5,000 paths of up to 3 hops (counted with a LIMIT, which stops the walk early): it
// lists those from each end and joins them where they meet (about 80 ms at 1M). Listing paths, unlike visiting nodes
// once, explodes next to a hub (an agency with 20,000 contracts took over the 30 s limit), so near one the engine's
// own search answers, as before. Why the rows are the same: a shortest path of L <= 6 hops splits at its node number
// L - L / 2 (<= 3 hops from a) into a..m and m..b (<= 3 hops); every a..m..b walk is at least L long, so the shortest
// length is the smallest such sum, and the walks of exactly that length split at that node are the shortest paths,
// each once (a walk that repeated a relationship or node could be made shorter). The parity tests compare the forms.
// Dialect notes: "WHERE a.id <> b.id" is pushed down into the lookup of b and turns it into a scan of every entity,
// so a = b is left out through 'shortest > 0' and on the path; lists of relationships are never concatenated (Grafeo
// 0.6 then reads the second list's items as nodes); the half from b is read backwards by index.
MATCH (a:Entity {id: $from})
MATCH (b:Entity {id: $to})
CALL (a) {
  MATCH (a)-[*0..3]-(m)
  WITH m LIMIT 5001
  RETURN count(m) AS out_a
}
CALL (b) {
  MATCH (b)-[*0..3]-(n)
  WITH n LIMIT 5001
  RETURN count(n) AS out_b
}
CALL (a, b, out_a, out_b) {
  WITH a, b WHERE out_a <= 5000 AND out_b <= 5000
  CALL (b) {
    MATCH (b)-[*0..3]-(n)
    RETURN collect(DISTINCT n) AS near_b
  }
  CALL (a, b, near_b) {
    MATCH p1 = (a)-[*0..3]-(m)
    WHERE m IN near_b
    CALL (m, b) {
      MATCH p2 = (b)-[*0..3]-(x)
      WHERE x = m
      RETURN length(p2) AS rest
    }
    RETURN min(length(p1) + rest) AS shortest
  }
  MATCH p1 = (a)-[*0..3]-(m)
  WHERE shortest > 0 AND length(p1) = shortest - shortest / 2 AND m IN near_b
  CALL (m, b, shortest) {
    MATCH p2 = (b)-[*0..3]-(x)
    WHERE x = m AND length(p2) = shortest / 2
    RETURN p2
  }
  WITH p1, p2, nodes(p1) AS ns1, relationships(p1) AS rs1, nodes(p2) AS nb, relationships(p2) AS rb
  RETURN length(p1) + length(p2) AS hops,
         [n IN ns1 | n.id] + [i IN range(size(nb) - 2, 0, -1) | nb[i].id] AS entities,
         [n IN ns1 | n.name] + [i IN range(size(nb) - 2, 0, -1) | nb[i].name] AS names,
         [i IN range(0, size(rs1) - 1) |
            CASE WHEN coalesce(rs1[i].from, startNode(rs1[i]).id) = ns1[i].id
                 THEN '-[' + type(rs1[i]) + ']->' ELSE '<-[' + type(rs1[i]) + ']-' END] +
         [j IN range(size(rb) - 1, 0, -1) |
            CASE WHEN coalesce(rb[j].from, startNode(rb[j]).id) = nb[j + 1].id
                 THEN '-[' + type(rb[j]) + ']->' ELSE '<-[' + type(rb[j]) + ']-' END] AS relationships,
         [r IN rs1 | r.sources] + [j IN range(size(rb) - 1, 0, -1) | rb[j].sources] AS hop_sources,
         [r IN rs1 | r.id] + [j IN range(size(rb) - 1, 0, -1) | rb[j].id] AS rel_ids
  UNION ALL
  WITH a, b WHERE out_a > 5000 OR out_b > 5000
  MATCH path = allShortestPaths((a)-[*..6]-(b))
  WITH path, nodes(path) AS ns, relationships(path) AS rs
  WHERE ns[0].id <> ns[size(ns) - 1].id
  RETURN length(path) AS hops,
         [n IN ns | n.id] AS entities,
         [n IN ns | n.name] AS names,
         [i IN range(0, size(rs) - 1) |
            CASE WHEN coalesce(rs[i].from, startNode(rs[i]).id) = ns[i].id
                 THEN '-[' + type(rs[i]) + ']->' ELSE '<-[' + type(rs[i]) + ']-' END] AS relationships,
         [r IN rs | r.sources] AS hop_sources,
         [r IN rs | r.id] AS rel_ids
}
RETURN hops, entities, names, relationships, hop_sources
ORDER BY reduce(key = '', x IN entities | key + x + ' '), reduce(key = '', x IN rel_ids | key + x + ' ')
