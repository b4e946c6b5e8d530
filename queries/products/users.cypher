// name: products/users
// title: Agencies using a product, including products built on it
// description: >-
//   Agencies recorded as using the product, or any product that runs on it (so a cloud platform shows the agencies of
//   every service hosted on it), and agencies whose contracts buy them; with data volume, dates and sources.
// params:
//   product: {type: entity, kind: Product, required: true, help: "product id or name, e.g. product:azure"}
// returns: [agency, agency_name, product, runs_on_depth, via, record, data_volume_tb, as_of, confidence, sources]
MATCH hosting = (:Product {id: $product})<-[:RUNS_ON*0..4]-(p:Product)
WITH p, min(length(hosting)) AS depth
CALL (p) {
  MATCH (p)<-[u:USES]-(a:Agency)
  RETURN a, 'uses' AS via, u.id AS record, u.data_volume_tb AS data_volume_tb,
         coalesce(u.as_of, u.start_date) AS as_of, u.confidence AS confidence, u.sources AS sources
  UNION
  MATCH (p)<-[f:FOR_PRODUCT]-(c:Contract)<-[:AWARDED]-(a:Agency)
  RETURN a, 'contract' AS via, c.id AS record, null AS data_volume_tb, c.start_date AS as_of,
         f.confidence AS confidence, f.sources AS sources
}
RETURN a.id AS agency, a.name AS agency_name, p.id AS product, depth AS runs_on_depth, via, record,
       data_volume_tb, as_of, confidence, sources
ORDER BY agency, product, via, record
