-- A sale keeps the market event its device took it for, even when the back office has no
-- row for that event (yet): events planned on a phone are merge cells first, and their
-- `market_event` row may come later (or never, for an event that failed the REST table's
-- checks). The sync projection used to drop such an id (null), so the server lost which
-- market the sale was for. The event id is now stored as sent; the REST API still refuses
-- a sale for an event it does not know (POST /sales checks it). Reports join by id.
alter table sale drop constraint sale_event_fkey;
