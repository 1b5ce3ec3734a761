-- Trigram indexes for the list endpoints' `q` search (issue 3). The queries match
-- `column ilike '%q%'` (`ListQuery::pattern`, wildcards escaped), which a btree cannot
-- serve; a GIN index with `gin_trgm_ops` can, for any position of the text, once `q` has
-- three characters or more. Exact-match columns (product and spool barcodes, NFC tags, EAN)
-- keep their btree indexes.
--
-- Row-level security: for the app role PostgreSQL evaluates the shop policy first and uses
-- no index for a condition whose function is not LEAKPROOF; `texticlike` (ILIKE) is not,
-- so the app role's searches filter the shop's rows and use these indexes only where a
-- superuser has marked texticlike LEAKPROOF (README, "API"). The owner connection uses them.
--
-- pg_trgm ships with PostgreSQL (Debian's server package has it) and is a trusted
-- extension since PostgreSQL 13: the migrating role needs CREATE on the database, which the
-- embedded cluster's superuser has and a managed database's owner role normally has too.

create extension if not exists pg_trgm;

-- Products: name, SKU.
create index product_name_trgm_idx on product using gin (name gin_trgm_ops);
create index product_sku_trgm_idx on product using gin (sku gin_trgm_ops);
-- Filaments (and spools through their filament): brand, colour, article number.
create index filament_brand_trgm_idx on filament using gin (brand gin_trgm_ops);
create index filament_colour_trgm_idx on filament using gin (colour_name gin_trgm_ops);
create index filament_article_trgm_idx on filament using gin (article_number gin_trgm_ops);
-- Spools: lot number, location.
create index spool_lot_trgm_idx on spool using gin (lot_number gin_trgm_ops);
create index spool_location_trgm_idx on spool using gin (location gin_trgm_ops);
-- Models and variants: names, designer, category.
create index model_name_trgm_idx on model using gin (name gin_trgm_ops);
create index model_designer_trgm_idx on model using gin (designer_name gin_trgm_ops);
create index model_category_trgm_idx on model using gin (category gin_trgm_ops);
create index model_variant_name_trgm_idx on model_variant using gin (name gin_trgm_ops);
-- Printers (also searched by the print-job list) and market events.
create index printer_name_trgm_idx on printer using gin (name gin_trgm_ops);
create index printer_model_trgm_idx on printer using gin (model gin_trgm_ops);
create index market_event_name_trgm_idx on market_event using gin (name gin_trgm_ops);
create index market_event_location_trgm_idx on market_event using gin (location gin_trgm_ops);
