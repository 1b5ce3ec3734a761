-- Issue 7: the shop's business details encrypted in the application, and erasing a shop's
-- files reliably.
--
-- - `shop.legal_name`, `shop.tax_id`, `shop.address` and the new `shop.payment_notes` hold
--   sealed values (`enc:v1:<key id>:<base64url(nonce | ciphertext)>`, see server/src/crypto.rs),
--   never plaintext: a database dump alone does not reveal them. Sealed values are longer
--   than the plaintext limits of 0002, so those length checks move to the application (core's
--   `BusinessDetails::validate`); the new check refuses plaintext written by mistake (NOT
--   VALID: rows written before this migration are sealed by the server at start).
-- - `storage_purge`: the object-store prefixes of erased shops whose files are still being
--   deleted. Written in the same transaction that deletes the shop's rows, removed once the
--   store holds nothing under the prefix; the server retries what is left at start. It holds
--   no shop data (only the prefix), and the app role cannot see it.

alter table shop
    drop constraint if exists shop_legal_name_check,
    drop constraint if exists shop_tax_id_check,
    drop constraint if exists shop_address_check,
    add column payment_notes text;

alter table shop
    add constraint shop_business_sealed_check check (
        (legal_name is null or legal_name like 'enc:v1:%')
        and (tax_id is null or tax_id like 'enc:v1:%')
        and (address is null or address like 'enc:v1:%')
        and (payment_notes is null or payment_notes like 'enc:v1:%')
    ) not valid,
    add constraint shop_business_length_check check (
        coalesce(length(legal_name), 0) <= 65536
        and coalesce(length(tax_id), 0) <= 65536
        and coalesce(length(address), 0) <= 65536
        and coalesce(length(payment_notes), 0) <= 65536
    );

create table storage_purge (
    prefix text primary key check (prefix ~ '^shops/[0-9a-f-]{36}$'),
    requested_at timestamptz not null default now()
);
alter table storage_purge enable row level security;
-- Enabled, not forced, no policy and no grant: only the owner connection (erasure, the
-- start-up retry) uses it, as with refresh_token.
