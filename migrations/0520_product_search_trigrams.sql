-- Product search that row-level security can serve from an index (issue 9).
--
-- `GET /products?q=` matches `name ilike '%q%' or sku ilike '%q%'`. For the app role the
-- trigram GIN indexes of migration 0440 are never used: `texticlike` is not LEAKPROOF, so
-- PostgreSQL checks the shop policy first and runs ILIKE on every row of the shop (about
-- 5 ms for 5,000 products, the most expensive read of the API under load).
--
-- This table holds each product's trigrams: every run of three characters of its
-- lower-cased name and SKU. A row that contains `q` contains every trigram of `q`, so the
-- products holding all of them are a superset of the matches, found by equality (`texteq`
-- is LEAKPROOF, so the lookup is an index scan under the shop policy); ILIKE then checks
-- those few rows. Lower-casing is PostgreSQL's `lower()` on both sides, the same folding
-- ILIKE uses, so no match is lost. The trigger keeps the table in step with every write of
-- a name or SKU (REST, sync projection, import); it is derived data, so it is not audited.

-- The distinct trigrams of the lower-cased texts (a text of fewer than three characters
-- has none). Trigrams never span two texts.
create function search_trigrams(texts text[]) returns setof text
language sql immutable parallel safe
as $$
    select distinct substr(t, i, 3)
    from unnest(texts) as x(raw),
         lateral (select lower(raw) as t) l,
         generate_series(1, length(t) - 2) as i
$$;
grant execute on function search_trigrams(text[]) to printstall_app;

create table product_search_trigram (
    shop_id uuid not null references shop (id) on delete cascade,
    trigram text not null,
    product_id uuid not null,
    primary key (shop_id, trigram, product_id),
    constraint product_search_trigram_product_fkey foreign key (shop_id, product_id)
        references product (shop_id, id) on delete cascade
);
create index product_search_trigram_product_idx on product_search_trigram (shop_id, product_id);

alter table product_search_trigram enable row level security;
alter table product_search_trigram force row level security;
create policy shop_isolation on product_search_trigram
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());
grant select, insert, delete on product_search_trigram to printstall_app;

create function product_search_trigrams_sync() returns trigger
language plpgsql
as $$
begin
    if tg_op = 'UPDATE' then
        delete from product_search_trigram where shop_id = new.shop_id and product_id = new.id;
    end if;
    insert into product_search_trigram (shop_id, trigram, product_id)
    select new.shop_id, t, new.id from search_trigrams(array[new.name, new.sku]) t;
    return null;
end
$$;

create trigger search_trigrams after insert on product
    for each row execute function product_search_trigrams_sync();
create trigger search_trigrams_changed after update of name, sku on product
    for each row when (old.name is distinct from new.name or old.sku is distinct from new.sku)
    execute function product_search_trigrams_sync();

-- The products there are already, every shop's: forced row-level security binds the table
-- owner too (a managed database's owner is no superuser), so it is lifted for this
-- transaction's backfill and put back before the migration commits.
alter table product no force row level security;
alter table product_search_trigram no force row level security;
insert into product_search_trigram (shop_id, trigram, product_id)
select p.shop_id, t, p.id from product p, search_trigrams(array[p.name, p.sku]) t;
alter table product force row level security;
alter table product_search_trigram force row level security;
