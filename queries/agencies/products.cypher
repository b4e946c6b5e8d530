// name: agencies/products
// title: Products an agency uses, and their vendors
// description: >-
//   Products the agency (and its sub-agencies) is recorded as using, with data volume and as-of date where known, and
//   products bought under its contracts; each with the companies that provide it and the sources of the evidence.
// params:
//   agency: {type: entity, kind: Agency, required: true, help: "agency id or name"}
//   include_sub_agencies: {type: bool, default: true, help: "also products used by agencies PART_OF this one"}
// returns: [product, name, category, vendors, agency, via, record, data_volume_tb, as_of, confidence, sources]
MATCH (top:Agency {id: $agency})<-[:PART_OF*0..6]-(a:Agency)
WHERE $include_sub_agencies OR a.id = top.id
CALL (a) {
  MATCH (a)-[u:USES]->(p:Product)
  RETURN p, 'uses' AS via, u.id AS record, u.data_volume_tb AS data_volume_tb,
         coalesce(u.as_of, u.start_date) AS as_of, u.confidence AS confidence, u.sources AS sources
  UNION
  MATCH (a)-[:AWARDED]->(c:Contract)-[f:FOR_PRODUCT]->(p:Product)
  RETURN p, 'contract' AS via, c.id AS record, null AS data_volume_tb, c.start_date AS as_of,
         f.confidence AS confidence, f.sources AS sources
}
CALL (p) {
  MATCH (p)<-[:PROVIDES]-(v:Company)
  WITH DISTINCT v ORDER BY v.id
  RETURN collect(v.id) AS vendors
}
RETURN p.id AS product, p.name AS name, p.category AS category, vendors, a.id AS agency, via, record,
       data_volume_tb, as_of, confidence, sources
ORDER BY product, agency, via, record
