//! Sign-in: register, sign in, refresh, sign out, change password, invite and join, and the
//! [`AuthUser`] extractor every other endpoint uses.
//!
//! The access token is a 15-minute JWT sent as `Authorization: Bearer`. The refresh token
//! (30 days) lives in an HttpOnly, Secure, SameSite=Strict cookie scoped to `/api/v1/auth`;
//! it rotates on every refresh, and presenting a rotated one again revokes its whole family.
//! These flows look rows up before any shop is known, so they run on the owner connection,
//! still setting `app.shop_id` / `app.user_id` for the forced row-level-security tables.

pub mod csrf;
pub mod oidc;
pub mod password_reset;
pub mod rate_limit;
pub mod request_limit;
pub mod sessions;
pub mod tokens;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use printstall_core::domain::member::{self, Action, NewUser, Role};
use printstall_core::domain::shop::NewShop;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

pub use rate_limit::RateLimiter;
pub use tokens::AuthKeys;

use crate::api::common::{ApiJson, db, invalid, require};
use crate::api::{ApiState, Routes};
use crate::error::ApiError;
use crate::tenancy;

pub const REFRESH_COOKIE: &str = "printstall_refresh";
const COOKIE_PATH: &str = "/api/v1/auth";

/// The signed-in member, from a valid access token: a built-in one, or one of the external
/// OpenID Connect provider when configured ([`oidc`]). Missing or bad tokens are 401 with
/// `WWW-Authenticate: Bearer`. The role is the one at sign-in (tokens live 15 minutes).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: Uuid,
    pub shop_id: Uuid,
    pub role: Role,
    /// The session (refresh-token family) the access token was issued for; `None` for
    /// tokens issued before sessions were tracked.
    pub session_id: Option<Uuid>,
}

impl FromRequestParts<ApiState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthorized)?;
        authenticate(state, token.trim()).await
    }
}

/// The member `token` stands for: a built-in access token (whose session must not have
/// ended), else (when configured) an external provider's token.
pub async fn authenticate(state: &ApiState, token: &str) -> Result<AuthUser, ApiError> {
    let member = authenticate_unlimited(state, token).await?;
    if let Err(e) = state.requests.hit(member.user_id, member.shop_id) {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "too many requests: this {} may make {} a minute; try again in {} s",
                e.scope, e.limit, e.retry_after_s
            ),
            retry_after_s: e.retry_after_s,
        });
    }
    Ok(member)
}

async fn authenticate_unlimited(state: &ApiState, token: &str) -> Result<AuthUser, ApiError> {
    if let Some(claims) = state.keys.check(token) {
        let claims = session_still_open(state, claims).await?;
        return Ok(AuthUser {
            user_id: claims.sub,
            shop_id: claims.shop,
            role: claims.role,
            session_id: claims.sid,
        });
    }
    match &state.oidc {
        Some(verifier) => oidc::authenticate(state, verifier, token).await,
        None => Err(ApiError::Unauthorized),
    }
}

/// Checks an access token: signature, algorithm, expiry and type ([`AuthKeys::check`]), and
/// that its session was not ended since it was issued.
pub async fn verify_token(state: &ApiState, token: &str) -> Result<tokens::Claims, ApiError> {
    let claims = state.keys.check(token).ok_or(ApiError::Unauthorized)?;
    session_still_open(state, claims).await
}

/// Claims whose signature checked: names the member in the request's span and refuses a
/// token whose session was ended.
async fn session_still_open(
    state: &ApiState,
    claims: tokens::Claims,
) -> Result<tokens::Claims, ApiError> {
    // Signed by us: name the member in this request's logs and error reports.
    tracing::Span::current().record("user_id", tracing::field::display(claims.sub));
    crate::telemetry::set_user(claims.sub);
    if let Some(sid) = claims.sid
        && sessions::is_revoked(&state.owner, claims.sub, sid).await?
    {
        return Err(ApiError::Unauthorized);
    }
    Ok(claims)
}

pub fn routes(r: Routes) -> Routes {
    r.route("/auth/register", &[Method::POST], post(register))
        .route("/auth/sign-in", &[Method::POST], post(sign_in))
        .route("/auth/refresh", &[Method::POST], post(refresh))
        .route("/auth/sign-out", &[Method::POST], post(sign_out))
        .route("/auth/password", &[Method::POST], post(change_password))
        .route("/auth/invites", &[Method::POST], post(invite))
        .route("/auth/join", &[Method::POST], post(join))
        .route(
            "/auth/sessions",
            &[Method::GET],
            axum::routing::get(sessions::list),
        )
        .route(
            "/auth/sessions/{id}",
            &[Method::DELETE],
            axum::routing::delete(sessions::revoke),
        )
}

/// An auth failure: the API error, or 429 when attempts are rate-limited.
pub enum AuthFail {
    Api(ApiError),
    TooMany(u64),
}

impl From<ApiError> for AuthFail {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl IntoResponse for AuthFail {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::TooMany(wait) => {
                let body = json!({"error": {
                    "code": "rate_limited",
                    "message": format!("too many failed sign-in attempts; wait {} minutes and try again", wait.div_ceil(60)),
                }});
                let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Session {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub user: UserOut,
    pub shop_id: Uuid,
    pub role: Role,
}

#[derive(Debug, Serialize)]
pub struct UserOut {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Deserialize)]
pub struct RegisterIn {
    #[serde(flatten)]
    pub user: NewUser,
    pub shop: NewShop,
}

fn client_address(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn refresh_cookie(token: String) -> Cookie<'static> {
    Cookie::build((REFRESH_COOKIE, token))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .max_age(time::Duration::days(tokens::REFRESH_TTL_DAYS))
        .build()
}

fn removal_cookie() -> Cookie<'static> {
    let mut c = refresh_cookie(String::new());
    c.make_removal();
    c
}

/// Stores a new refresh token of `family` and returns it with a fresh access token.
async fn start_session(
    state: &ApiState,
    conn: &mut sqlx::PgConnection,
    user: UserOut,
    shop_id: Uuid,
    role: Role,
    family: Uuid,
    device: Option<&str>,
) -> Result<(Session, String), ApiError> {
    let (token, hash) = tokens::new_refresh_token();
    sqlx::query(
        r#"insert into refresh_token (id, family_id, user_id, shop_id, token_hash, expires_at,
                                      device_label)
           values ($1, $2, $3, $4, $5, now() + make_interval(days => $6), $7)"#,
    )
    .bind(Uuid::now_v7())
    .bind(family)
    .bind(user.id)
    .bind(shop_id)
    .bind(&hash)
    .bind(i32::try_from(tokens::REFRESH_TTL_DAYS).unwrap_or(30))
    .bind(device)
    .execute(conn)
    .await
    .map_err(db)?;
    let access_token = state
        .keys
        .issue(user.id, shop_id, role, family)
        .map_err(ApiError::internal)?;
    Ok((
        Session {
            access_token,
            token_type: "Bearer",
            expires_in: tokens::ACCESS_TTL_SECONDS,
            user,
            shop_id,
            role,
        },
        token,
    ))
}

fn parse_role(s: &str) -> Role {
    if s == "owner" {
        Role::Owner
    } else {
        Role::Seller
    }
}

/// `POST /auth/register`: a new user, their shop, and their owner membership.
async fn register(
    State(state): State<ApiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ApiJson(input): ApiJson<RegisterIn>,
) -> Result<Response, AuthFail> {
    let device = sessions::device_label(&headers);
    input.user.validate().map_err(invalid)?;
    input.shop.validate().map_err(invalid)?;
    let email = member::normalize_email(&input.user.email);
    let hash = tokens::hash_password(input.user.password.clone())
        .await
        .map_err(ApiError::internal)?;
    let user_id = Uuid::now_v7();
    let shop_id = Uuid::now_v7();
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_tenant(&mut tx, Some(shop_id), Some(user_id))
        .await
        .map_err(db)?;
    sqlx::query(
        r#"insert into app_user (id, email, display_name, password_hash) values ($1, $2, $3, $4)"#,
    )
    .bind(user_id)
    .bind(&email)
    .bind(input.user.display_name.trim())
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let s = &input.shop;
    crate::api::shop::ensure_known_time_zone(&mut tx, "time_zone", &s.time_zone).await?;
    sqlx::query(
        r#"insert into shop (id, name, currency, time_zone, tax_rate_bp, prices_include_tax)
           values ($1, $2, $3, $4, $5, $6)"#,
    )
    .bind(shop_id)
    .bind(s.name.trim())
    .bind(s.currency.code())
    .bind(&s.time_zone)
    .bind(i32::try_from(s.tax_rate_bp).unwrap_or(i32::MAX))
    .bind(s.prices_include_tax)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(r#"insert into membership (shop_id, user_id, role) values ($1, $2, 'owner')"#)
        .bind(shop_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let user = UserOut {
        id: user_id,
        email,
        display_name: input.user.display_name.trim().to_owned(),
    };
    let (session, token) = start_session(
        &state,
        &mut tx,
        user,
        shop_id,
        Role::Owner,
        Uuid::now_v7(),
        device.as_deref(),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok((
        StatusCode::CREATED,
        jar.add(refresh_cookie(token)),
        axum::Json(session),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct SignInIn {
    pub email: String,
    pub password: String,
    /// Which shop to sign in to, for members of several (default: the one they own, else
    /// the first they joined).
    #[serde(default)]
    pub shop_id: Option<Uuid>,
}

struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    password_hash: String,
}

async fn find_user(state: &ApiState, email: &str) -> Result<Option<UserRow>, ApiError> {
    let row = sqlx::query(
        r#"select id, email, display_name, password_hash from app_user where lower(email) = $1"#,
    )
    .bind(email)
    .fetch_optional(&state.owner)
    .await
    .map_err(db)?;
    Ok(row.map(|r| UserRow {
        id: r.get("id"),
        email: r.get("email"),
        display_name: r.get("display_name"),
        password_hash: r.get("password_hash"),
    }))
}

/// The member's role in `shop` (or their first shop), on a transaction that has
/// `app.user_id` set.
async fn membership_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    user_id: Uuid,
    shop: Option<Uuid>,
) -> Result<Option<(Uuid, Role)>, ApiError> {
    let row = sqlx::query(
        r#"select shop_id, role from membership
           where user_id = $1 and ($2::uuid is null or shop_id = $2)
           order by (role = 'owner') desc, created_at
           limit 1"#,
    )
    .bind(user_id)
    .bind(shop)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    Ok(row.map(|r| {
        (
            r.get("shop_id"),
            parse_role(r.get::<String, _>("role").as_str()),
        )
    }))
}

/// `POST /auth/sign-in`.
async fn sign_in(
    State(state): State<ApiState>,
    jar: CookieJar,
    request: axum::extract::Request,
) -> Result<Response, AuthFail> {
    let address = client_address(request.extensions());
    let device = sessions::device_label(request.headers());
    let ApiJson(input) = ApiJson::<SignInIn>::from_request(request, &state).await?;
    let account = member::normalize_email(&input.email);
    state
        .limiter
        .check(&account, &address)
        .map_err(AuthFail::TooMany)?;
    let user = find_user(&state, &account).await?;
    let ok = match &user {
        Some(u) => tokens::verify_password(input.password.clone(), u.password_hash.clone()).await,
        None => false,
    };
    let Some(user) = user.filter(|_| ok) else {
        state.limiter.record_failure(&account, &address);
        return Err(ApiError::Unauthorized.into());
    };
    state.limiter.record_success(&account);
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_tenant(&mut tx, None, Some(user.id))
        .await
        .map_err(db)?;
    let Some((shop_id, role)) = membership_of(&mut tx, user.id, input.shop_id).await? else {
        return Err(ApiError::Forbidden(
            "this account is not a member of that shop; ask its owner for an invite code".into(),
        )
        .into());
    };
    let out = UserOut {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
    };
    let (session, token) = start_session(
        &state,
        &mut tx,
        out,
        shop_id,
        role,
        Uuid::now_v7(),
        device.as_deref(),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok((jar.add(refresh_cookie(token)), axum::Json(session)).into_response())
}

use axum::extract::FromRequest;

/// `POST /auth/refresh`: rotates the refresh cookie and returns a new access token.
async fn refresh(
    State(state): State<ApiState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, AuthFail> {
    csrf::same_origin(&headers)?;
    let Some(presented) = jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned()) else {
        return Err(ApiError::Unauthorized.into());
    };
    let hash = tokens::sha256_hex(&presented);
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_lookup_hash(&mut tx, &hash).await.map_err(db)?;
    let row = sqlx::query(
        r#"select id, family_id, user_id, shop_id, device_label, expires_at < now() as expired,
                  rotated_at is not null as rotated, revoked_at is not null as revoked
           from refresh_token where token_hash = $1 for update"#,
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(row) = row else {
        return Err(ApiError::Unauthorized.into());
    };
    let family: Uuid = row.get("family_id");
    let user_id: Uuid = row.get("user_id");
    let shop_id: Uuid = row.get("shop_id");
    // The family's other rows are the user's: name them for row-level security.
    tenancy::set_tenant(&mut tx, Some(shop_id), Some(user_id))
        .await
        .map_err(db)?;
    if row.get::<bool, _>("rotated") {
        // A rotated token came back: someone else may hold the family. Revoke it all.
        sqlx::query(
            r#"update refresh_token set revoked_at = now() where family_id = $1 and revoked_at is null"#,
        )
        .bind(family)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        tracing::warn!(%family, "a rotated refresh token was reused; its family is revoked");
        return Err(ApiError::Unauthorized.into());
    }
    if row.get::<bool, _>("revoked") || row.get::<bool, _>("expired") {
        return Err(ApiError::Unauthorized.into());
    }
    let id: Uuid = row.get("id");
    let device: Option<String> = row.get("device_label");
    sqlx::query(r#"update refresh_token set rotated_at = now() where id = $1"#)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let Some((_, role)) = membership_of(&mut tx, user_id, Some(shop_id)).await? else {
        return Err(ApiError::Unauthorized.into());
    };
    let user = sqlx::query(r#"select email, display_name from app_user where id = $1"#)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let out = UserOut {
        id: user_id,
        email: user.get("email"),
        display_name: user.get("display_name"),
    };
    let (session, token) = start_session(
        &state,
        &mut tx,
        out,
        shop_id,
        role,
        family,
        device.as_deref(),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok((jar.add(refresh_cookie(token)), axum::Json(session)).into_response())
}

/// `POST /auth/sign-out`: revokes the cookie's family and clears the cookie.
async fn sign_out(
    State(state): State<ApiState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, AuthFail> {
    csrf::same_origin(&headers)?;
    if let Some(presented) = jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned()) {
        let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
        tenancy::set_lookup_hash(&mut tx, &tokens::sha256_hex(&presented))
            .await
            .map_err(db)?;
        let found: Option<(Uuid, Uuid)> = sqlx::query_as(
            r#"select family_id, user_id from refresh_token where token_hash = app_lookup_hash()"#,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if let Some((family, user_id)) = found {
            tenancy::set_tenant(&mut tx, None, Some(user_id))
                .await
                .map_err(db)?;
            sqlx::query(
                r#"update refresh_token set revoked_at = now()
                   where family_id = $1 and user_id = $2 and revoked_at is null"#,
            )
            .bind(family)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
    }
    Ok((StatusCode::NO_CONTENT, jar.add(removal_cookie())).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordIn {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /auth/password`: checks the current password, stores the new one, signs out every
/// other session (all refresh tokens of the user are revoked) and gives this session a new
/// refresh cookie (same session id, so its access token keeps working).
async fn change_password(
    State(state): State<ApiState>,
    auth: AuthUser,
    jar: CookieJar,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ChangePasswordIn>,
) -> Result<Response, AuthFail> {
    let device = sessions::device_label(&headers);
    member::validate_password("new_password", &input.new_password).map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    let row =
        sqlx::query(r#"select email, display_name, password_hash from app_user where id = $1"#)
            .bind(auth.user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(ApiError::Unauthorized)?;
    let current: String = row.get("password_hash");
    if !tokens::verify_password(input.current_password, current).await {
        return Err(
            ApiError::Forbidden("the current password is wrong; type it again".into()).into(),
        );
    }
    let hash = tokens::hash_password(input.new_password)
        .await
        .map_err(ApiError::internal)?;
    sqlx::query(r#"update app_user set password_hash = $2, updated_at = now() where id = $1"#)
        .bind(auth.user_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    // Refresh tokens are not visible to the app role: the owner connection revokes them.
    let mut owner_tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_tenant(&mut owner_tx, Some(auth.shop_id), Some(auth.user_id))
        .await
        .map_err(db)?;
    sqlx::query(
        r#"update refresh_token set revoked_at = now() where user_id = $1 and revoked_at is null"#,
    )
    .bind(auth.user_id)
    .execute(&mut *owner_tx)
    .await
    .map_err(db)?;
    let out = UserOut {
        id: auth.user_id,
        email: row.get("email"),
        display_name: row.get("display_name"),
    };
    let (session, token) = start_session(
        &state,
        &mut owner_tx,
        out,
        auth.shop_id,
        auth.role,
        auth.session_id.unwrap_or_else(Uuid::now_v7),
        device.as_deref(),
    )
    .await?;
    owner_tx.commit().await.map_err(db)?;
    Ok((jar.add(refresh_cookie(token)), axum::Json(session)).into_response())
}

#[derive(Debug, Serialize)]
pub struct InviteOut {
    pub id: Uuid,
    /// Give this to the helper; it works once, until `expires_at`.
    pub code: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Whether the code was mailed to the `email` of the request.
    pub emailed: bool,
    /// Why it was not, when an `email` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_note: Option<String>,
}

/// The optional body of `POST /auth/invites`: where to mail the code.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteIn {
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /auth/invites`: a one-time code that lets a helper join the shop as a seller; with
/// `{"email"}` it is also mailed there (when the server has SMTP; the code is answered
/// either way).
async fn invite(
    State(state): State<ApiState>,
    auth: AuthUser,
    body: axum::body::Bytes,
) -> Result<Response, AuthFail> {
    require(&auth, Action::ManageMembers)?;
    let input: InviteIn = if body.iter().all(u8::is_ascii_whitespace) {
        InviteIn::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::Unprocessable {
            message: format!("send {{}} or {{\"email\": \"…\"}}: {e}"),
            field: None,
        })?
    };
    let mail_to = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(e) => {
            member::validate_email("email", e).map_err(invalid)?;
            Some(member::normalize_email(e))
        }
    };
    let code = tokens::new_invite_code();
    let id = Uuid::now_v7();
    let expires_at = OffsetDateTime::now_utc() + time::Duration::days(tokens::INVITE_TTL_DAYS);
    let mut tx = state.tx(&auth).await?;
    sqlx::query(
        r#"insert into invite (id, shop_id, code_hash, role, created_by, expires_at)
           values ($1, $2, $3, 'seller', $4, $5)"#,
    )
    .bind(id)
    .bind(auth.shop_id)
    .bind(tokens::invite_code_hash(&code))
    .bind(auth.user_id)
    .bind(expires_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let names = sqlx::query(
        r#"select s.name as shop, u.display_name as inviter
           from shop s, app_user u where s.id = $1 and u.id = $2"#,
    )
    .bind(auth.shop_id)
    .bind(auth.user_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let (emailed, email_note) = match (mail_to, &state.mailer, names) {
        (None, _, _) => (false, None),
        (Some(_), None, _) => (
            false,
            Some(format!(
                "{}; give the code yourself",
                crate::email::EMAIL_OFF
            )),
        ),
        (Some(to), Some(mailer), names) => {
            let (shop, inviter) = names
                .map(|r| (r.get::<String, _>("shop"), r.get::<String, _>("inviter")))
                .unwrap_or_else(|| ("a shop".into(), "The owner".into()));
            let text = crate::email::messages::invitation(
                mailer.public_url(),
                &shop,
                &inviter,
                &code,
                expires_at,
            );
            match mailer.send(&to, &text.subject, text.body).await {
                Ok(()) => (true, None),
                Err(e) => {
                    tracing::warn!(error = %e, "an invitation could not be mailed");
                    (
                        false,
                        Some(
                            "the mail server did not take the message; give the code yourself"
                                .into(),
                        ),
                    )
                }
            }
        }
    };
    let out = InviteOut {
        id,
        code,
        role: Role::Seller,
        expires_at,
        emailed,
        email_note,
    };
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct JoinIn {
    pub code: String,
    pub email: String,
    pub password: String,
    /// Needed when the email has no account yet (one is created).
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `POST /auth/join`: redeems an invite code, creating the account when the email is new
/// (or checking the password of an existing one), and signs in to the shop as a seller.
async fn join(
    State(state): State<ApiState>,
    jar: CookieJar,
    request: axum::extract::Request,
) -> Result<Response, AuthFail> {
    let address = client_address(request.extensions());
    let device = sessions::device_label(request.headers());
    let ApiJson(input) = ApiJson::<JoinIn>::from_request(request, &state).await?;
    let account = member::normalize_email(&input.email);
    state
        .limiter
        .check(&account, &address)
        .map_err(AuthFail::TooMany)?;
    let existing = find_user(&state, &account).await?;
    let (user_id, display_name, new_hash) = match &existing {
        Some(u) => {
            if !tokens::verify_password(input.password.clone(), u.password_hash.clone()).await {
                state.limiter.record_failure(&account, &address);
                return Err(ApiError::Unauthorized.into());
            }
            (u.id, u.display_name.clone(), None)
        }
        None => {
            let new_user = NewUser {
                email: input.email.clone(),
                display_name: input.display_name.clone().unwrap_or_default(),
                password: input.password.clone(),
            };
            new_user.validate().map_err(invalid)?;
            let hash = tokens::hash_password(input.password.clone())
                .await
                .map_err(ApiError::internal)?;
            (
                Uuid::now_v7(),
                new_user.display_name.trim().to_owned(),
                Some(hash),
            )
        }
    };
    let code_hash = tokens::invite_code_hash(&input.code);
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_lookup_hash(&mut tx, &code_hash)
        .await
        .map_err(db)?;
    let invite = sqlx::query(
        r#"select id, shop_id, role from invite
           where code_hash = $1 and used_at is null and expires_at > now()
           for update"#,
    )
    .bind(&code_hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(invite) = invite else {
        state.limiter.record_failure(&account, &address);
        return Err(ApiError::NotFound(
            "invite code (it may be used or expired; ask the owner for a new one)".into(),
        )
        .into());
    };
    let shop_id: Uuid = invite.get("shop_id");
    let role = parse_role(invite.get::<String, _>("role").as_str());
    tenancy::set_tenant(&mut tx, Some(shop_id), Some(user_id))
        .await
        .map_err(db)?;
    if let Some(hash) = new_hash {
        sqlx::query(
            r#"insert into app_user (id, email, display_name, password_hash) values ($1, $2, $3, $4)"#,
        )
        .bind(user_id)
        .bind(&account)
        .bind(&display_name)
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    sqlx::query(r#"insert into membership (shop_id, user_id, role) values ($1, $2, $3)"#)
        .bind(shop_id)
        .bind(user_id)
        .bind(invite.get::<String, _>("role"))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    sqlx::query(r#"update invite set used_at = now(), used_by = $2 where id = $1"#)
        .bind(invite.get::<Uuid, _>("id"))
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let out = UserOut {
        id: user_id,
        email: account,
        display_name,
    };
    let (session, token) = start_session(
        &state,
        &mut tx,
        out,
        shop_id,
        role,
        Uuid::now_v7(),
        device.as_deref(),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok((
        StatusCode::CREATED,
        jar.add(refresh_cookie(token)),
        axum::Json(session),
    )
        .into_response())
}
