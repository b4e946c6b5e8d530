// name: companies/agencies
// title: Agencies a company sells to
// description: >-
//   Every agency the company or one of its subsidiaries sells to, and how: a contract awarded to it, a subcontract, a
//   contract for one of its products (e.g. through a reseller), or an agency's recorded use of its product. One row
//   per agency and piece of evidence, with the date and the sources of that evidence.
// params:
//   company: {type: entity, kind: Company, required: true, help: "company id or name, e.g. company:microsoft"}
// returns: [agency, agency_name, vendor, via, record, record_name, date, confidence, sources]
MATCH (:Company {id: $company})<-[:SUBSIDIARY_OF*0..6]-(v:Company)
CALL (v) {
  MATCH (v)<-[:AWARDED_TO]-(c:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a, 'contract' AS via, c AS record, c.start_date AS date, c.confidence AS confidence, c.sources AS sources
  UNION
  MATCH (v)<-[:SUBCONTRACTED_TO]-(c:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a, 'subcontract' AS via, c AS record, c.start_date AS date, c.confidence AS confidence, c.sources AS sources
  UNION
  MATCH (v)-[:PROVIDES]->(:Product)<-[:FOR_PRODUCT]-(c:Contract)<-[:AWARDED]-(a:Agency)
  WHERE NOT EXISTS { MATCH (c)-[:AWARDED_TO|SUBCONTRACTED_TO]->(w:Company) WHERE w.id = v.id }
  RETURN a, 'contract for its product' AS via, c AS record, c.start_date AS date, c.confidence AS confidence,
         c.sources AS sources
  UNION
  MATCH (v)-[:PROVIDES]->(p:Product)<-[u:USES]-(a:Agency)
  RETURN a, 'uses its product' AS via, p AS record, coalesce(u.as_of, u.start_date) AS date,
         u.confidence AS confidence, u.sources AS sources
}
RETURN DISTINCT a.id AS agency, a.name AS agency_name, v.id AS vendor, via, record.id AS record,
       record.name AS record_name, date, confidence, sources
ORDER BY agency, vendor, via, record, coalesce(date, '')
