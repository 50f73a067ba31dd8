//! Test databases for this crate's and the server's tests.
//!
//! * [`sqlite_temp`]: a fresh, migrated SQLite file in its own temporary folder (removed on drop).
//! * [`postgres_fresh`]: a fresh, migrated PostgreSQL database `peixun_t_<random>` on the server at
//!   `PEIXUN_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), dropped
//!   (`WITH (FORCE)`) on drop. A PostgreSQL that cannot be reached **panics** with a clear
//!   message: CI has PostgreSQL, and a silently skipped backend is a false pass.

use crate::Store;
use rand::RngCore;
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;

/// Default URL of the PostgreSQL server used by tests.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Cleans up a test database when dropped.
#[derive(Debug)]
pub struct TestDbGuard {
    kind: GuardKind,
    url: String,
}

#[derive(Debug)]
enum GuardKind {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDbGuard {
    /// The database URL (to open a second `Store` on the same database, as a second server would).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The SQLite file, if any.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.kind {
            GuardKind::Sqlite { dir } => Some(dir.join("peixun.db")),
            GuardKind::Postgres { .. } => None,
        }
    }
}

impl Drop for TestDbGuard {
    fn drop(&mut self) {
        match &self.kind {
            GuardKind::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            GuardKind::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let name = name.clone();
                // Own thread and runtime: Drop may run inside (or outside) a tokio runtime.
                let handle = std::thread::spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(_) => return,
                    };
                    rt.block_on(async move {
                        if let Ok(db) = Database::connect(admin_url.as_str()).await {
                            let _ = db
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            let _ = db.close().await;
                        }
                    });
                });
                let _ = handle.join();
            }
        }
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A fresh, migrated SQLite database in a temporary folder.
pub async fn sqlite_temp() -> (Store, TestDbGuard) {
    let dir = std::env::temp_dir().join(format!("peixun-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("create temp dir for the test database");
    let guard = TestDbGuard {
        kind: GuardKind::Sqlite { dir: dir.clone() },
        url: format!("sqlite://{}?mode=rwc", dir.join("peixun.db").display()),
    };
    let store = Store::open_sqlite_file(&dir.join("peixun.db"))
        .await
        .expect("open the SQLite test database");
    store.set_keys(crate::pii::Keys::for_tests());
    store
        .migrate()
        .await
        .expect("migrate the SQLite test database");
    (store, guard)
}

/// Replace the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A fresh, migrated PostgreSQL database. Panics (loudly) when PostgreSQL is not reachable.
pub async fn postgres_fresh() -> (Store, TestDbGuard) {
    let admin_url = std::env::var("PEIXUN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
    let name = format!("peixun_t_{}", random_suffix());
    let admin = Database::connect(admin_url.as_str())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL tests need a server: cannot connect to PEIXUN_TEST_PG_URL \
             (default {DEFAULT_PG_URL}): {e}"
            )
        });
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    let _ = admin.close().await;
    let url = with_database(&admin_url, &name);
    let guard = TestDbGuard {
        kind: GuardKind::Postgres {
            admin_url: admin_url.clone(),
            name: name.clone(),
        },
        url: url.clone(),
    };
    let store = Store::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect to the fresh PostgreSQL database {name}: {e}"));
    store.set_keys(crate::pii::Keys::for_tests());
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate PostgreSQL test database {name}: {e}"));
    (store, guard)
}

/// Mark every account in the database exempt from the TOTP requirement (S4) without an audit
/// entry: for test harnesses whose users stand for their roles. Test builds only; the product's
/// one writer of the flag is the demo seeder ([`crate::totp::set_exempt`]).
#[cfg(feature = "testing")]
pub async fn exempt_all_users_from_totp(store: &Store) -> crate::Result<u64> {
    use crate::entity::user;
    use sea_orm::EntityTrait;
    use sea_orm::sea_query::Expr;
    Ok(user::Entity::update_many()
        .col_expr(user::Column::TotpExempt, Expr::value(true))
        .exec(store.write_db())
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
