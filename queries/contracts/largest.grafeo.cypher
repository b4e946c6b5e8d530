// Embedded-engine form of contracts/largest.cypher (same parameters, same rows). The engine sorts slowly, has no
// ordered index, and reads every contract a property index gives for a value, so the query avoids both sorting every
// contract and counting them. Each contract stores integer keys of its amount (statetech.graph.vocabulary:
// obligated_octave, floor(log2(amount)), and obligated_rank, the octave split in 64 steps; a larger key always means
// a larger amount), and one contract in 64 also stores them as sample keys. The sample keys are walked from the top,
// octaves and then the ranks of the lowest octave needed, until $limit samples are covered: at least $limit contracts
// lie above that floor, and about 64 times $limit. Only those are read, through the full keys, and sorted. A contract
// below the floor has a smaller amount than every one above it, so when $limit of those pass the filters they are
// the answer; when fewer do, the query falls back to sorting every contract.
CALL () {
  UNWIND range(64, -1, -1) AS octave
  CALL (octave) {
    MATCH (c:Contract {obligated_sample_octave: octave})
    RETURN count(c) AS samples
  }
  WITH octave, samples ORDER BY octave DESC
  WITH collect([octave, samples]) AS counted
  // [samples covered, lowest octave needed, samples in the octaves above it]
  RETURN reduce(acc = [0, null, 0], d IN counted |
                CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0], acc[0]] END) AS octaves
}
CALL (octaves) {
  // the 64 ranks of the lowest octave needed (octave * 64 + step), counted on from the octaves above it
  UNWIND range(octaves[1] * 64 + 63, octaves[1] * 64, -1) AS rank
  CALL (rank) {
    MATCH (c:Contract {obligated_sample_rank: rank})
    RETURN count(c) AS samples
  }
  WITH rank, samples ORDER BY rank DESC
  WITH collect([rank, samples]) AS counted
  // [samples covered, lowest rank needed]
  RETURN reduce(acc = [octaves[2], null], d IN counted |
                CASE WHEN acc[0] >= $limit THEN acc ELSE [acc[0] + d[1], d[0]] END) AS ranks
}
// the contracts down to the floor that pass the filters (tested as variables of a WITH: a WHERE right after an
// indexed MATCH turns the engine's lookup into a scan), the octaves above the floor's first, then its ranks
CALL (octaves) {
  UNWIND range(64, octaves[1] + 1, -1) AS octave
  MATCH (c:Contract {obligated_octave: octave})
  WITH c
  WHERE ($award_type IS NULL OR c.award_type = $award_type) AND ($since IS NULL OR c.start_date >= $since)
  RETURN collect(c) AS above
}
CALL (octaves, ranks) {
  UNWIND range(octaves[1] * 64 + 63, ranks[1], -1) AS rank
  MATCH (c:Contract {obligated_rank: rank})
  WITH c
  WHERE ($award_type IS NULL OR c.award_type = $award_type) AND ($since IS NULL OR c.start_date >= $since)
  RETURN collect(c) AS within
}
// sorted in a subquery, so the one row it returns comes even when no contract passed
CALL (above, within) {
  UNWIND above + within AS c
  WITH c ORDER BY c.obligated_usd DESC, c.id LIMIT $limit
  RETURN collect(c.id) AS top
}
// the walk down to the lowest octave (every contract read), or $limit above the floor: the answer
WITH top, octaves[1] = -1 OR size(top) >= $limit AS found
CALL (top, found) {
  WITH top, found WHERE found
  UNWIND top AS cid
  MATCH (c:Contract {id: cid})
  RETURN c
  UNION ALL
  // fallback: fewer than $limit contracts above the floor pass the filters, so every contract is sorted
  WITH found WHERE NOT found
  MATCH (c:Contract)
  WHERE c.obligated_usd IS NOT NULL
    AND ($award_type IS NULL OR c.award_type = $award_type)
    AND ($since IS NULL OR c.start_date >= $since)
  WITH c ORDER BY c.obligated_usd DESC, c.id LIMIT $limit
  RETURN c
}
CALL (c) {
  MATCH (c)<-[:AWARDED]-(a:Agency)
  WITH DISTINCT a ORDER BY a.id
  RETURN collect(a.id) AS agencies
}
CALL (c) {
  MATCH (c)-[:AWARDED_TO]->(v:Company)
  WITH DISTINCT v ORDER BY v.id
  RETURN collect(v.id) AS vendors
}
RETURN c.id AS contract, c.name AS name, agencies, vendors, c.award_type AS award_type,
       c.obligated_usd AS obligated_usd, c.potential_usd AS potential_usd, c.start_date AS start_date,
       c.confidence AS confidence, c.sources AS sources
ORDER BY obligated_usd DESC, contract
