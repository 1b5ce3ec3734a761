-- Sessions (issue 7): a session is a refresh-token family, started by one sign-in on one
-- device. Each row of the family now names the device it was started on (the browser's
-- User-Agent, shortened) so the member can tell their sessions apart, list them and end one.
-- Access tokens carry the family id (`sid`); a revoked family's access tokens are refused
-- at once, not only when they expire.

alter table refresh_token
    add column device_label text check (length(device_label) <= 200);
create index refresh_token_user_idx on refresh_token (user_id, created_at);
