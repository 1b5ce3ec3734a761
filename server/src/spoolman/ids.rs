//! Spoolman's integer ids: one per vendor (a filament brand, compared lower-case), filament
//! and spool of a shop, given in order of creation and never reused (`spoolman_id`).
//!
//! Rows get their number the first time the Spoolman API or an import looks (so rows made
//! by any path, before or after this feature, are numbered alike). Numbering takes a
//! transaction-scoped advisory lock per shop, so two requests never hand out one number.

use sqlx::PgConnection;
use uuid::Uuid;

/// Takes the shop's numbering lock until the transaction ends.
pub async fn lock(conn: &mut PgConnection, shop: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"select pg_advisory_xact_lock(hashtextextended('printstall:spoolman:' || $1::text, 0))"#,
    )
    .bind(shop)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Numbers every vendor, filament and spool of the shop that has no number yet.
pub async fn ensure(conn: &mut PgConnection, shop: Uuid) -> Result<(), sqlx::Error> {
    let missing: bool = sqlx::query_scalar(
        r#"select exists (select from spool s where not exists
                   (select from spoolman_id i where i.kind = 'spool' and i.ref_id = s.id))
               or exists (select from filament f where not exists
                   (select from spoolman_id i where i.kind = 'filament' and i.ref_id = f.id))
               or exists (select from filament f where not exists
                   (select from spoolman_id i where i.kind = 'vendor'
                                                and i.vendor_key = lower(btrim(f.brand))))"#,
    )
    .fetch_one(&mut *conn)
    .await?;
    if !missing {
        return Ok(());
    }
    lock(conn, shop).await?;
    sqlx::query(
        r#"insert into spoolman_id (shop_id, kind, num, vendor_key)
           select $1, 'vendor',
                  coalesce((select max(num) from spoolman_id where kind = 'vendor'), 0)
                      + row_number() over (order by first_seen, k),
                  k
           from (select lower(btrim(brand)) as k, min(created_at) as first_seen
                 from filament group by 1) b
           where not exists (select from spoolman_id i where i.kind = 'vendor' and i.vendor_key = b.k)"#,
    )
    .bind(shop)
    .execute(&mut *conn)
    .await?;
    for (kind, table) in [("filament", "filament"), ("spool", "spool")] {
        // Table and kind are fixed names, never input.
        sqlx::query(&format!(
            r#"insert into spoolman_id (shop_id, kind, num, ref_id)
               select $1, '{kind}',
                      coalesce((select max(num) from spoolman_id where kind = '{kind}'), 0)
                          + row_number() over (order by t.created_at, t.id),
                      t.id
               from {table} t
               where not exists (select from spoolman_id i where i.kind = '{kind}' and i.ref_id = t.id)"#
        ))
        .bind(shop)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Gives `ref_id` (a filament or spool made by an import) the number `wanted` (its id in
/// the Spoolman it came from) when that number is free, else the next one; records the
/// source id so a second import finds it. The caller holds [`lock`].
pub async fn assign(
    conn: &mut PgConnection,
    shop: Uuid,
    kind: &str,
    ref_id: Uuid,
    wanted: i32,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        r#"insert into spoolman_id (shop_id, kind, num, ref_id, source_id)
           select $1, $2,
                  case when exists (select from spoolman_id where kind = $2 and num = $4)
                       then coalesce((select max(num) from spoolman_id where kind = $2), 0) + 1
                       else $4 end,
                  $3, $4
           returning num"#,
    )
    .bind(shop)
    .bind(kind)
    .bind(ref_id)
    .bind(wanted)
    .fetch_one(&mut *conn)
    .await
}

/// The filament or spool imported earlier from the Spoolman id `source`.
pub async fn imported(
    conn: &mut PgConnection,
    kind: &str,
    source: i32,
) -> Result<Option<Uuid>, sqlx::Error> {
    let found: Option<Option<Uuid>> =
        sqlx::query_scalar(r#"select ref_id from spoolman_id where kind = $1 and source_id = $2"#)
            .bind(kind)
            .bind(source)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.flatten())
}
