//! The embedded default database: a private PostgreSQL cluster in a folder of ours,
//! made with Debian's `initdb`/`pg_ctl` and reached over a Unix socket in that folder.
//!
//! `initdb` refuses to run as root, so as root the cluster belongs to the `postgres`
//! user that Debian's package creates, and every command runs through `runuser`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "PostgreSQL's initdb and pg_ctl were not found; install Debian's `postgresql` package (scripts/setup does), or set DATABASE_URL to an existing database"
    )]
    NotInstalled,
    #[error("cannot prepare the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the postgres user cannot reach {path}; as root, keep PRINTSTALL_DATA_DIR in a folder every user can enter (e.g. under /var/lib or /tmp)"
    )]
    NotReachable { path: PathBuf },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
}

/// A running private cluster. `stop` it when the app stops (it is not stopped on drop, so
/// that `printstall db start` can leave one running for the tests).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    as_postgres_user: bool,
    /// True when `start` started it (it was not running before): whoever started it stops it.
    started_here: bool,
}

pub const SUPERUSER: &str = "printstall";
pub const DATABASE: &str = "printstall";

impl EmbeddedPostgres {
    /// Creates the cluster in `<data_dir>/pg` the first time, and starts it unless it runs.
    pub fn start(data_dir: &Path) -> Result<Self, EmbeddedPgError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::NotInstalled)?;
        std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedPgError::Folder {
            path: data_dir.to_owned(),
            source,
        })?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|source| EmbeddedPgError::Folder {
                path: data_dir.to_owned(),
                source,
            })?;
        let cluster_dir = data_dir.join("pg");
        std::fs::create_dir_all(&cluster_dir).map_err(|source| EmbeddedPgError::Folder {
            path: cluster_dir.clone(),
            source,
        })?;
        let mut pg = Self {
            bin_dir,
            cluster_dir,
            as_postgres_user: running_as_root(),
            started_here: false,
        };
        if pg.as_postgres_user {
            pg.hand_folder_to_postgres()?;
        }
        if !pg.cluster_dir.join("data").join("PG_VERSION").exists() {
            pg.run(
                "initdb",
                &[
                    "-D",
                    &pg.path_str("data"),
                    "-A",
                    "trust",
                    "-U",
                    SUPERUSER,
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
            )?;
        }
        if !pg.is_running() {
            let options = format!(
                "-k {} -c listen_addresses='' -c max_connections=200",
                pg.cluster_dir.display()
            );
            pg.run(
                "pg_ctl",
                &[
                    "-D",
                    &pg.path_str("data"),
                    "-o",
                    &options,
                    "-l",
                    &pg.path_str("log"),
                    "-w",
                    "start",
                ],
            )?;
            pg.started_here = true;
        }
        Ok(pg)
    }

    /// The cluster in `<data_dir>/pg` when one is running there; `None` when there is no
    /// cluster or it is stopped. Creates, starts and changes nothing.
    pub fn running(data_dir: &Path) -> Result<Option<Self>, EmbeddedPgError> {
        let cluster_dir = data_dir.join("pg");
        if !cluster_dir.join("data").join("PG_VERSION").exists() {
            return Ok(None);
        }
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::NotInstalled)?;
        let pg = Self {
            bin_dir,
            cluster_dir,
            as_postgres_user: running_as_root(),
            started_here: false,
        };
        Ok(pg.is_running().then_some(pg))
    }

    /// True when `start` started the cluster, false when it was running already.
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// The cluster's folder (`<data_dir>/pg`).
    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// The URL of the maintenance database `postgres` (for creating databases).
    pub fn admin_url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of the app's database (created by the caller if missing).
    pub fn url(&self) -> String {
        self.url_for(DATABASE)
    }

    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}",
            self.cluster_dir.display()
        )
    }

    pub fn stop(&self) -> Result<(), EmbeddedPgError> {
        if self.is_running() {
            self.run(
                "pg_ctl",
                &["-D", &self.path_str("data"), "-m", "fast", "-w", "stop"],
            )?;
        }
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.output("pg_ctl", &["-D", &self.path_str("data"), "status"])
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn path_str(&self, child: &str) -> String {
        self.cluster_dir.join(child).display().to_string()
    }

    fn hand_folder_to_postgres(&self) -> Result<(), EmbeddedPgError> {
        let chown = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(&self.cluster_dir)
            .output()
            .map_err(|e| EmbeddedPgError::Command {
                command: "chown".into(),
                detail: e.to_string(),
            })?;
        if !chown.status.success() {
            return Err(EmbeddedPgError::Command {
                command: format!("chown -R postgres: {}", self.cluster_dir.display()),
                detail: String::from_utf8_lossy(&chown.stderr).trim().to_owned(),
            });
        }
        let reachable = Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-w"])
            .arg(&self.cluster_dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !reachable {
            return Err(EmbeddedPgError::NotReachable {
                path: self.cluster_dir.clone(),
            });
        }
        Ok(())
    }

    fn output(&self, tool: &str, args: &[&str]) -> std::io::Result<Output> {
        let program = self.bin_dir.join(tool);
        if self.as_postgres_user {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(program)
                .args(args)
                .output()
        } else {
            Command::new(program).args(args).output()
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), EmbeddedPgError> {
        let output = self
            .output(tool, args)
            .map_err(|e| EmbeddedPgError::Command {
                command: tool.to_owned(),
                detail: e.to_string(),
            })?;
        if output.status.success() {
            return Ok(());
        }
        let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        if tool == "pg_ctl" {
            detail.push_str(&format!(" (see {})", self.path_str("log")));
        }
        Err(EmbeddedPgError::Command {
            command: format!("{tool} {}", args.join(" ")),
            detail,
        })
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Debian keeps the binaries in /usr/lib/postgresql/<major>/bin; take the newest major.
fn find_bin_dir() -> Option<PathBuf> {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    majors.sort();
    majors.pop().map(|(_, bin)| bin)
}
