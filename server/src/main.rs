//! The `printstall` command: parses the command line and calls the server library.

use std::path::PathBuf;
use std::process::ExitCode;

mod inspect_cli;

use clap::{Parser, Subcommand};
use printstall_server::app::{self, AppState, Database};
use printstall_server::crypto::{self, KeyRing};
use printstall_server::embedded_pg::EmbeddedPostgres;
use printstall_server::settings::Settings;
use printstall_server::{backup, db, erase, secret};

#[derive(Parser)]
#[command(
    name = "printstall",
    version,
    about = "PrintStall: the back office of a 3D-printing stall"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the migrations, then serve the API and the web app (PORT, default 8080).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Print the metadata of sliced files (.gcode, .bgcode, .3mf): a short summary, or JSON.
    /// Needs no database or settings.
    Inspect {
        /// The files to read.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// One JSON object per file (an array with several files).
        #[arg(long)]
        json: bool,
    },
    /// Mail the low-stock and low-filament digest to the owners of every shop that switched
    /// it on (PUT /api/v1/shop/digest). Run it from cron or a systemd timer, e.g. daily.
    Digest {
        /// Only this shop (its id).
        #[arg(long)]
        shop: Option<uuid::Uuid>,
    },
    /// Manage the embedded PostgreSQL cluster (used when DATABASE_URL is unset).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Seal every encrypted business detail again under the newest key of
    /// PRINTSTALL_ENCRYPTION_KEYS (the last one listed); `serve` also does this at start.
    RotateKeys,
    /// Copy the file store's objects to or from a backup folder (scripts/backup, scripts/restore).
    Files {
        #[command(subcommand)]
        action: FilesAction,
    },
    /// Sync maintenance.
    Sync {
        #[command(subcommand)]
        action: SyncAction,
    },
}

#[derive(Subcommand)]
enum FilesAction {
    /// Copy every object to DIR/objects and list them with SHA-256 in DIR/objects.tsv.
    Backup {
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Put the objects of a backup back (checked), and delete objects the backup lacks.
    Restore {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Only check the backup's objects against its listing; change nothing.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum SyncAction {
    /// Give every shop a new sync epoch (after a restore): devices pull everything again
    /// (409 resync_required) and push the ops they still hold.
    NewEpoch,
}

#[derive(Subcommand)]
enum DbAction {
    /// Create (first time) and start the cluster in DIR/pg, and print its URL.
    Start {
        /// Folder for the cluster (default: PRINTSTALL_DATA_DIR or .data).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Stop the cluster in DIR/pg if it runs (never creates or starts one).
    Stop {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Inspect { files, json } = &cli.command {
        return inspect_cli::run(files, *json);
    }
    init_logging();
    // Before the runtime starts, so panics on every thread are reported.
    let _sentry = Settings::from_env()
        .ok()
        .and_then(|s| printstall_server::telemetry::init_sentry(s.sentry_dsn.as_ref()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("printstall: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("printstall: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let json = std::env::var("PRINTSTALL_LOG_FORMAT").is_ok_and(|f| f == "json");
    printstall_server::telemetry::init_logging(json);
}

async fn run(command: Command) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    match command {
        Command::Serve => serve(settings).await,
        Command::Inspect { files, json } => {
            // Handled in main() before settings are loaded; kept here for completeness.
            if inspect_cli::run(&files, json) == ExitCode::SUCCESS {
                Ok(())
            } else {
                Err("some files could not be read".into())
            }
        }
        Command::Migrate => {
            let database = Database::open(&settings).await.map_err(|e| e.to_string())?;
            let result = db::migrate(&database.pool).await.map_err(|e| e.to_string());
            database.close().await;
            result.map(|()| println!("migrations are up to date"))
        }
        Command::RotateKeys => {
            let ring = KeyRing::load(&settings).map_err(|e| e.to_string())?;
            let database = Database::open(&settings).await.map_err(|e| e.to_string())?;
            let result = async {
                db::migrate(&database.pool)
                    .await
                    .map_err(|e| e.to_string())?;
                crypto::reseal_all(&database.pool, &ring)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            database.close().await;
            let done = result?;
            println!(
                "{} value(s) sealed again under key `{}`",
                done.values,
                ring.current_id()
            );
            if done.failed.is_empty() {
                Ok(())
            } else {
                for (shop, reason) in &done.failed {
                    eprintln!("printstall: shop {shop}: {reason}");
                }
                Err(format!(
                    "{} shop(s) keep values that could not be opened; see above",
                    done.failed.len()
                ))
            }
        }
        Command::Files { action } => {
            let storage = app::open_storage(&settings, "http://127.0.0.1")
                .await
                .map_err(|e| e.to_string())?;
            match action {
                FilesAction::Backup { to } => {
                    let s = backup::backup_files(&storage, &to)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!(
                        "{} object(s), {} bytes copied to {}",
                        s.objects,
                        s.bytes,
                        to.display()
                    );
                }
                FilesAction::Restore { from, check } => {
                    let s = backup::restore_files(&storage, &from, check)
                        .await
                        .map_err(|e| e.to_string())?;
                    if check {
                        println!("{} object(s), {} bytes checked", s.objects, s.bytes);
                        return Ok(());
                    }
                    println!(
                        "{} object(s), {} bytes restored; {} object(s) the backup lacks deleted",
                        s.objects, s.bytes, s.removed
                    );
                }
            }
            Ok(())
        }
        Command::Sync {
            action: SyncAction::NewEpoch,
        } => {
            let database = Database::open(&settings).await.map_err(|e| e.to_string())?;
            let result = backup::new_sync_epoch(&database.pool)
                .await
                .map_err(|e| e.to_string());
            database.close().await;
            let n = result?;
            println!("{n} shop(s) have a new sync epoch; their devices will resync");
            Ok(())
        }
        Command::Digest { shop } => digest(settings, shop).await,
        Command::Db { action } => {
            let dir_or_default = |dir: Option<PathBuf>| dir.unwrap_or(settings.data_dir.clone());
            match action {
                DbAction::Start { dir } => {
                    let dir = dir_or_default(dir);
                    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir))
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| e.to_string())?;
                    let url = pg.url();
                    let made = db::ensure_database(
                        &pg.admin_url(),
                        printstall_server::embedded_pg::DATABASE,
                    )
                    .await;
                    if let Err(e) = made {
                        // Leave nothing running that this command started.
                        app::stop_if_started_here(Some(pg)).await;
                        return Err(e.to_string());
                    }
                    println!("{url}");
                    Ok(())
                }
                DbAction::Stop { dir } => {
                    let dir = dir_or_default(dir);
                    let shown = dir.join("pg").display().to_string();
                    // Stops a running cluster; never creates or starts one.
                    let stopped = tokio::task::spawn_blocking(move || {
                        match EmbeddedPostgres::running(&dir)? {
                            Some(pg) => pg.stop().map(|()| true),
                            None => Ok(false),
                        }
                    })
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                    if stopped {
                        println!("stopped the PostgreSQL cluster in {shown}");
                    } else {
                        println!("no PostgreSQL cluster is running in {shown}; nothing to stop");
                    }
                    Ok(())
                }
            }
        }
    }
}

async fn digest(settings: Settings, shop: Option<uuid::Uuid>) -> Result<(), String> {
    let Some(smtp) = &settings.smtp else {
        return Err(format!(
            "{}; set them to send the digest",
            printstall_server::email::EMAIL_OFF
        ));
    };
    let mailer = printstall_server::email::Mailer::new(smtp, &app::public_url(&settings))
        .map_err(|e| e.to_string())?;
    let database = Database::open(&settings).await.map_err(|e| e.to_string())?;
    let result = async {
        db::migrate(&database.pool)
            .await
            .map_err(|e| e.to_string())?;
        printstall_server::email::digest::send_digests(&database.pool, &mailer, shop)
            .await
            .map_err(|e| format!("the digest could not be read from the database: {e}"))
    }
    .await;
    database.close().await;
    let report = result?;
    println!(
        "digest: {} shop(s) asked for it, {} message(s) sent, {} shop(s) with nothing low",
        report.shops, report.sent, report.nothing_low
    );
    if report.failed > 0 {
        return Err(format!(
            "{} message(s) were not taken by the SMTP server (see the log)",
            report.failed
        ));
    }
    Ok(())
}

async fn serve(settings: Settings) -> Result<(), String> {
    // First: a SIGINT or SIGTERM from here on ends the server cleanly (see shutdown_signal).
    let shutdown = app::shutdown_signal();
    app::check_pwa_built(&settings).map_err(|e| e.to_string())?;
    let listener = app::bind(&settings).await.map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let database = Database::open(&settings).await.map_err(|e| e.to_string())?;
    let started = async {
        db::migrate(&database.pool)
            .await
            .map_err(|e| e.to_string())?;
        app::open_storage(&settings, &base_url)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let state = match started {
        Ok(storage) => {
            let state = AppState::new(database.pool.clone(), storage, settings.clone())
                .map_err(|e| e.to_string());
            match state {
                Ok(state) => match state.check_app_role().await {
                    Ok(()) => {
                        // The configuration; "listening" comes last, after sign-in and email.
                        print_configuration(&settings, &database, &state, address);
                        after_start(&database, &state).await.map(|()| state)
                    }
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    let state = match state {
        Ok(state) => state,
        Err(e) => {
            database.close().await;
            return Err(e);
        }
    };
    if let Some(verifier) = &state.api.oidc {
        match verifier.load().await {
            Ok(n) => println!(
                "  sign-in:   built-in accounts and {} ({n} keys)",
                verifier.describe()
            ),
            Err(e) => {
                let from_file = state.settings.oidc.as_ref().is_some_and(|o| {
                    matches!(o.jwks, printstall_server::settings::JwksSource::File(_))
                });
                if from_file {
                    database.close().await;
                    return Err(format!("external sign-in: {e}"));
                }
                tracing::warn!(error = %e, "external sign-in: the provider's keys cannot be fetched yet; its tokens are refused until they can");
            }
        }
    }
    match &state.api.mailer {
        Some(mailer) => println!("  email:     {}", mailer.describe()),
        None => println!("  email:     off (no SMTP_HOST; invite codes are handed over in person)"),
    }
    // Last: tests and scripts read up to this line.
    println!("  listening: {base_url}");
    // The request pool (role printstall_app) closes first, then the owner pool and cluster.
    let app_pool = state.api.app.clone();
    let served = app::serve(state, listener, shutdown).await;
    app_pool.close().await;
    database.close().await;
    // Logged only here, after a serve: a failed start prints its one line and nothing else.
    tracing::info!("stopped: requests finished, database connections closed");
    served.map_err(|e| format!("the server stopped: {e}"))
}

/// At start: business details sealed under an older key (or not yet sealed) are sealed
/// under the newest one, and file deletions an erasure left unfinished are retried. (Logged,
/// not printed: whoever reads stdout may stop at the "listening" line.)
async fn after_start(database: &Database, state: &AppState) -> Result<(), String> {
    let done = crypto::reseal_all(&database.pool, &state.api.crypto)
        .await
        .map_err(|e| e.to_string())?;
    if done.values > 0 {
        tracing::info!(
            values = done.values,
            key = state.api.crypto.current_id(),
            "business details sealed again under the newest key"
        );
    }
    for (shop, reason) in &done.failed {
        tracing::error!(%shop, %reason, "a shop's business details cannot be opened");
    }
    match erase::purge_pending(&database.pool, &state.storage).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(objects = n, "leftover files of erased shops deleted"),
        Err(e) => tracing::warn!(error = %e, "files of erased shops could not be deleted yet"),
    }
    Ok(())
}

/// The start-up summary on stdout, secrets masked (`secret::mask_url_password`, and the
/// S3 keys never shown).
fn print_configuration(
    settings: &Settings,
    database: &Database,
    state: &AppState,
    address: std::net::SocketAddr,
) {
    let db_line = match &database.embedded {
        Some(_) => format!(
            "embedded PostgreSQL in {} ({})",
            settings.data_dir.join("pg").display(),
            secret::mask_url_password(database.url.expose())
        ),
        None => secret::mask_url_password(database.url.expose()),
    };
    println!("PrintStall {}", env!("CARGO_PKG_VERSION"));
    println!(
        "  listen:    {address} (HOST={}, PORT={})",
        settings.host, settings.port
    );
    println!("  database:  {db_line}");
    if let Some(app_url) = &settings.app_database_url {
        println!(
            "  app role:  {}",
            secret::mask_url_password(app_url.expose())
        );
    }
    println!("  files:     {}", settings.storage.describe());
    if let Some(public_url) = &settings.public_url {
        println!("  public:    {}", secret::mask_url_password(public_url));
    }
    println!("  web app:   {}", settings.pwa_dir.display());
    println!("  encryption: {}", state.api.crypto.describe());
}
