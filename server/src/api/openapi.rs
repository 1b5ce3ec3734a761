//! The OpenAPI 3 document at `/api/v1/openapi.json`, built with utoipa from the table
//! [`OPERATIONS`]. A test checks that table against the routes actually mounted.

use axum::Json;
use axum::http::Method;
use axum::routing::get;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathItem, PathsBuilder, Required, ResponseBuilder,
};

use super::Routes;

pub fn routes(r: Routes) -> Routes {
    r.route("/openapi.json", &[Method::GET], get(document))
}

/// `(method, path under /api/v1 in OpenAPI syntax, tag, summary, signed in)`.
pub const OPERATIONS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "POST",
        "/auth/register",
        "auth",
        "Create an account, its shop and owner membership",
        false,
    ),
    (
        "POST",
        "/auth/sign-in",
        "auth",
        "Sign in (rate-limited per account and address)",
        false,
    ),
    (
        "POST",
        "/auth/refresh",
        "auth",
        "Rotate the refresh cookie; new access token",
        false,
    ),
    (
        "POST",
        "/auth/sign-out",
        "auth",
        "Revoke the refresh cookie's family",
        false,
    ),
    (
        "POST",
        "/auth/password",
        "auth",
        "Change the password; other sessions end",
        true,
    ),
    (
        "POST",
        "/auth/invites",
        "auth",
        "Make a one-time invite code (owner); with {email} it is also mailed",
        true,
    ),
    (
        "POST",
        "/auth/join",
        "auth",
        "Join a shop as a seller with an invite code",
        false,
    ),
    (
        "GET",
        "/auth/sessions",
        "auth",
        "The signed-in user's open sessions (device, created, last used)",
        true,
    ),
    (
        "DELETE",
        "/auth/sessions/{id}",
        "auth",
        "End one of the user's sessions (its tokens stop working at once)",
        true,
    ),
    (
        "GET",
        "/audit",
        "audit",
        "The shop's audit log, newest first (owner; entity, entity_id, user_id, device_id, session_id, op_id, action, from, to, cursor, limit)",
        true,
    ),
    (
        "GET",
        "/audit/export",
        "audit",
        "The audit log as CSV, with the same filters (owner)",
        true,
    ),
    ("GET", "/shop", "shop", "The signed-in member's shop", true),
    (
        "PATCH",
        "/shop",
        "shop",
        "Change the shop's settings (owner; JSON merge patch of name, currency, time_zone, tax_rate_bp, prices_include_tax, machine_cost_per_hour, business): an entity.set.v1 op devices pull; business details sealed",
        true,
    ),
    (
        "PUT",
        "/shop/business",
        "shop",
        "Set the shop's legal name, tax id, address and payment notes (owner; stored encrypted)",
        true,
    ),
    (
        "GET",
        "/export",
        "export",
        "Everything of the shop and the signed-in user as one streamed zip with a manifest (owner)",
        true,
    ),
    (
        "POST",
        "/shop/delete",
        "erasure",
        "Erase the shop: every row, file and session (owner; password and shop name)",
        true,
    ),
    (
        "POST",
        "/account/delete",
        "erasure",
        "Delete the account (password; bearer token, or email when it has no shop left)",
        false,
    ),
    (
        "POST",
        "/auth/password-reset/request",
        "auth",
        "Mail a single-use password reset link (202 whether or not the account exists; 400 email_off without SMTP)",
        false,
    ),
    (
        "POST",
        "/auth/password-reset",
        "auth",
        "Set a new password with a reset link's token; every session ends",
        false,
    ),
    (
        "GET",
        "/shop/digest",
        "shop",
        "The low-stock and low-filament digest setting (owner)",
        true,
    ),
    (
        "PUT",
        "/shop/digest",
        "shop",
        "Switch the digest on or off, set the filament threshold (owner; 400 email_off without SMTP)",
        true,
    ),
    (
        "GET",
        "/shop/members",
        "shop",
        "The shop's members and their roles",
        true,
    ),
    (
        "PATCH",
        "/shop/members/{user_id}",
        "shop",
        "Change a member's role (owner; the only owner cannot become a seller: 409; a demoted member's sessions of the shop end)",
        true,
    ),
    (
        "DELETE",
        "/shop/members/{user_id}",
        "shop",
        "Remove a member from the shop (owner; never the only owner: 409); their sessions of the shop end at once",
        true,
    ),
    (
        "GET",
        "/products",
        "products",
        "List products (q: name, SKU, barcode)",
        true,
    ),
    (
        "POST",
        "/products",
        "products",
        "Create a product (owner)",
        true,
    ),
    (
        "GET",
        "/products/{id}",
        "products",
        "Read a product with its stock level",
        true,
    ),
    (
        "PATCH",
        "/products/{id}",
        "products",
        "Change a product (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/products/{id}",
        "products",
        "Archive a product (owner)",
        true,
    ),
    (
        "POST",
        "/products/{id}/adjust",
        "products",
        "Adjust stock (adjusted/returned/damaged/produced)",
        true,
    ),
    (
        "POST",
        "/products/{id}/count",
        "products",
        "Count stock (records the difference)",
        true,
    ),
    (
        "GET",
        "/products/{id}/ledger",
        "products",
        "The product's stock ledger",
        true,
    ),
    (
        "GET",
        "/sales",
        "sales",
        "List sales (event_id; from, to on taken_at, RFC 3339, to exclusive; payment_method)",
        true,
    ),
    (
        "POST",
        "/sales",
        "sales",
        "Record a sale; stock goes down",
        true,
    ),
    (
        "GET",
        "/sales/{id}",
        "sales",
        "Read a sale with its lines",
        true,
    ),
    (
        "POST",
        "/sales/{id}/void",
        "sales",
        "Void a sale (owner; reason): marked voided, its stock comes back as returned ledger rows, as a sale.void.v1 op; 409 when already voided",
        true,
    ),
    (
        "GET",
        "/filaments",
        "filaments",
        "List filaments (q: brand, colour, material, article number, EAN; material)",
        true,
    ),
    (
        "POST",
        "/filaments",
        "filaments",
        "Create a filament (owner)",
        true,
    ),
    (
        "GET",
        "/filaments/{id}",
        "filaments",
        "Read a filament",
        true,
    ),
    (
        "PATCH",
        "/filaments/{id}",
        "filaments",
        "Change a filament (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/filaments/{id}",
        "filaments",
        "Archive a filament (owner)",
        true,
    ),
    (
        "GET",
        "/spools",
        "spools",
        "List spools (q: barcode, NFC tag, lot, location, brand, colour; filament_id, material)",
        true,
    ),
    ("POST", "/spools", "spools", "Create a spool (owner)", true),
    (
        "GET",
        "/spools/{id}",
        "spools",
        "Read a spool with grams left",
        true,
    ),
    (
        "PATCH",
        "/spools/{id}",
        "spools",
        "Change a spool (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/spools/{id}",
        "spools",
        "Archive a spool (owner)",
        true,
    ),
    (
        "POST",
        "/spools/{id}/use",
        "spools",
        "Record filament used (clamps at 0 g, overshoot recorded)",
        true,
    ),
    (
        "POST",
        "/spools/{id}/weigh",
        "spools",
        "Weigh a spool: grams left from the gross weight (measurement entry)",
        true,
    ),
    (
        "GET",
        "/spools/{id}/ledger",
        "spools",
        "The spool's usage ledger",
        true,
    ),
    (
        "GET",
        "/models",
        "models",
        "List models (q: name, designer, category, tag)",
        true,
    ),
    ("POST", "/models", "models", "Create a model (owner)", true),
    ("GET", "/models/{id}", "models", "Read a model", true),
    (
        "PATCH",
        "/models/{id}",
        "models",
        "Change a model (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/models/{id}",
        "models",
        "Archive a model (owner)",
        true,
    ),
    (
        "GET",
        "/variants",
        "models",
        "List variants (q: name; model_id)",
        true,
    ),
    (
        "POST",
        "/variants",
        "models",
        "Create a variant with slicer settings and filament needs (owner)",
        true,
    ),
    ("GET", "/variants/{id}", "models", "Read a variant", true),
    (
        "PATCH",
        "/variants/{id}",
        "models",
        "Change a variant (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/variants/{id}",
        "models",
        "Archive a variant (owner)",
        true,
    ),
    (
        "GET",
        "/variants/{id}/files",
        "files",
        "The variant's sliced files, newest version first",
        true,
    ),
    (
        "POST",
        "/variants/{id}/files",
        "files",
        "Start an upload (owner; file_name, size_bytes, sha256): quota check (413), presigned PUT URL",
        true,
    ),
    (
        "POST",
        "/variants/{id}/files/{file_id}/restore",
        "files",
        "Make an earlier version the variant's current file (owner)",
        true,
    ),
    (
        "GET",
        "/variants/{id}/files/{file_id}/download",
        "files",
        "A short-lived download URL for one version",
        true,
    ),
    (
        "GET",
        "/variants/{id}/files/{file_id}/thumbnail",
        "files",
        "A short-lived URL of a version's PNG thumbnail (size: 128 or 512)",
        true,
    ),
    (
        "POST",
        "/uploads/{id}/complete",
        "files",
        "Finish an upload: size and SHA-256 checked, metadata and thumbnails made, recorded as the current version",
        true,
    ),
    (
        "GET",
        "/uploads/{id}",
        "files",
        "An upload's state: parts the store holds and fresh presigned URLs for the rest (resume)",
        true,
    ),
    (
        "DELETE",
        "/uploads/{id}",
        "files",
        "Abandon a pending upload: its bytes and reservation are dropped (owner)",
        true,
    ),
    (
        "GET",
        "/models/{id}/files",
        "files",
        "The model's design files (STL, 3MF) with geometry, newest version first",
        true,
    ),
    (
        "POST",
        "/models/{id}/files",
        "files",
        "Start a design-file upload (owner; file_name, size_bytes, sha256): quota check (413), presigned URL(s)",
        true,
    ),
    (
        "POST",
        "/models/{id}/files/{file_id}/restore",
        "files",
        "Make an earlier design file the model's current one (owner)",
        true,
    ),
    (
        "GET",
        "/models/{id}/files/{file_id}/download",
        "files",
        "A short-lived download URL for one design file version",
        true,
    ),
    (
        "GET",
        "/models/{id}/files/{file_id}/thumbnail",
        "files",
        "A short-lived URL of a design file's PNG thumbnail, drawn from its mesh (size: 128 or 512)",
        true,
    ),
    (
        "GET",
        "/printers",
        "printers",
        "List printers (q: name, model)",
        true,
    ),
    (
        "POST",
        "/printers",
        "printers",
        "Create a printer (owner)",
        true,
    ),
    (
        "GET",
        "/printers/{id}",
        "printers",
        "Read a printer with its loaded spool",
        true,
    ),
    (
        "PATCH",
        "/printers/{id}",
        "printers",
        "Change a printer or its loaded spool (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/printers/{id}",
        "printers",
        "Archive a printer (owner)",
        true,
    ),
    (
        "GET",
        "/printer-history",
        "printers",
        "What printers reported through the Spoolman API, newest first (printer_id, printer_token_id)",
        true,
    ),
    (
        "GET",
        "/printer-history/jobs",
        "printers",
        "What each running job's printer reported since the job started, per spool",
        true,
    ),
    (
        "GET",
        "/print-jobs",
        "print jobs",
        "List print jobs in queue order (status, printer_id, event_id; q: variant, model or printer name)",
        true,
    ),
    (
        "POST",
        "/print-jobs",
        "print jobs",
        "Queue a print job (owner)",
        true,
    ),
    (
        "GET",
        "/print-jobs/{id}",
        "print jobs",
        "Read a print job with the spools it used and units it produced",
        true,
    ),
    (
        "PATCH",
        "/print-jobs/{id}",
        "print jobs",
        "Change an open print job (owner; JSON merge patch)",
        true,
    ),
    (
        "POST",
        "/print-jobs/{id}/move",
        "print jobs",
        "Move a job before/after another, or to a priority (owner)",
        true,
    ),
    (
        "POST",
        "/print-jobs/{id}/status",
        "print jobs",
        "Start, pause, resume or cancel a job",
        true,
    ),
    (
        "POST",
        "/print-jobs/{id}/finish",
        "print jobs",
        "Finish a job: grams off spools (or grams_from: printer, what its printer reported, taken once), units into stock",
        true,
    ),
    (
        "POST",
        "/print-jobs/{id}/fail",
        "print jobs",
        "Fail a job: wasted grams off spools (or grams_from: printer), reason",
        true,
    ),
    (
        "GET",
        "/events",
        "events",
        "List market events (q: name, location, tag)",
        true,
    ),
    (
        "POST",
        "/events",
        "events",
        "Create a market event (owner)",
        true,
    ),
    ("GET", "/events/{id}", "events", "Read a market event", true),
    (
        "PATCH",
        "/events/{id}",
        "events",
        "Change a market event (owner; JSON merge patch)",
        true,
    ),
    (
        "DELETE",
        "/events/{id}",
        "events",
        "Archive a market event (owner)",
        true,
    ),
    (
        "GET",
        "/events/{id}/plan",
        "events",
        "The event's stock plan with on hand and shortfall",
        true,
    ),
    (
        "PUT",
        "/events/{id}/plan",
        "events",
        "Replace the event's stock plan (owner)",
        true,
    ),
    (
        "GET",
        "/events/{id}/report",
        "events",
        "The event's sales report: sales for it by id, and sales for no event on its days",
        true,
    ),
    (
        "GET",
        "/printer-tokens",
        "printers",
        "Printer API tokens for the Spoolman-compatible API (owner; never the token itself)",
        true,
    ),
    (
        "POST",
        "/printer-tokens",
        "printers",
        "Make a printer API token (owner); the token is shown once",
        true,
    ),
    (
        "DELETE",
        "/printer-tokens/{id}",
        "printers",
        "Revoke a printer API token (owner)",
        true,
    ),
    (
        "POST",
        "/imports/spoolman",
        "imports",
        "Import vendors, filaments and spools from Spoolman's exports or a running Spoolman (owner; dry_run previews)",
        true,
    ),
    (
        "GET",
        "/csv/{kind}",
        "imports",
        "Export products, stock, filaments, spools or sales as CSV",
        true,
    ),
    (
        "POST",
        "/csv/{kind}",
        "imports",
        "Import products, stock, filaments, spools or sales from CSV (dry_run previews; all or nothing)",
        true,
    ),
    ("GET", "/openapi.json", "meta", "This document", false),
    (
        "POST",
        "/sync/push",
        "sync",
        "Apply a batch of offline operations, idempotent by op_id; answers per op",
        true,
    ),
    (
        "GET",
        "/sync/pull",
        "sync",
        "Merge cells changed after a cursor (409 resync_required after a restore)",
        true,
    ),
    (
        "GET",
        "/sync/events",
        "sync",
        "Server-sent pokes after each push (token also as ?access_token=)",
        true,
    ),
];

fn method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PATCH" => HttpMethod::Patch,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The document.
pub fn build() -> OpenApi {
    let json_object = || {
        ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().build()))
            .build()
    };
    let error = ResponseBuilder::new()
        .description("`{\"error\": {\"code\", \"message\", \"field\"}}`")
        .content("application/json", json_object())
        .build();
    let mut paths = PathsBuilder::new();
    for (m, path, tag, summary, signed_in) in OPERATIONS {
        let mut op = OperationBuilder::new()
            .tag(*tag)
            .summary(Some(*summary))
            .operation_id(Some(format!(
                "{}_{}",
                m.to_ascii_lowercase(),
                path.trim_start_matches('/')
                    .replace(['/', '-', '.'], "_")
                    .replace(['{', '}'], "")
            )))
            .response(
                "200",
                if *path == "/export" {
                    // The export is a zip, streamed.
                    ResponseBuilder::new()
                        .description(
                            "a zip: data/, ledgers/, sales/, account/, files/, manifest.json",
                        )
                        .content(
                            "application/zip",
                            ContentBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .schema_type(utoipa::openapi::Type::String)
                                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                                            utoipa::openapi::KnownFormat::Binary,
                                        ))),
                                ))
                                .build(),
                        )
                        .build()
                } else if path.ends_with("/export") {
                    ResponseBuilder::new()
                        .description("a CSV file")
                        .content(
                            "text/csv",
                            ContentBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new().schema_type(utoipa::openapi::Type::String),
                                ))
                                .build(),
                        )
                        .build()
                } else {
                    ResponseBuilder::new()
                        .description("success (201 for creations, 204 without body)")
                        .content("application/json", json_object())
                        .build()
                },
            )
            .response("default", error.clone());
        if *m == "DELETE" || *path == "/auth/sign-out" {
            op = op.response(
                "204",
                ResponseBuilder::new().description("done; no body").build(),
            );
        }
        for name in ["id", "file_id", "kind", "user_id"] {
            if !path.contains(&format!("{{{name}}}")) {
                continue;
            }
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(utoipa::openapi::Type::String)
                            .format((name != "kind").then_some(
                                utoipa::openapi::SchemaFormat::KnownFormat(
                                    utoipa::openapi::KnownFormat::Uuid,
                                ),
                            )),
                    )),
            );
        }
        if matches!(*m, "POST" | "PATCH" | "PUT") {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json_object())
                    .build(),
            ));
        }
        if *signed_in {
            op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        paths = paths.path(
            format!("/api/v1{path}"),
            PathItem::new(method(m), op.build()),
        );
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("PrintStall API")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths.build())
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .bearer_format("JWT")
                            .build(),
                    ),
                )
                .build(),
        ))
        .build()
}

async fn document() -> Json<OpenApi> {
    Json(build())
}
