//! peixun web app: axum pages and JSON API (ARCHITECTURE.md "Pages and API").
//!
//! A library with a thin binary (`peixun serve` in crates/cli calls [`serve`]). Request flow:
//! security headers → timeout → body limit → metrics → request id and log line → [`auth::authenticate`] (session
//! cookie or bearer token) → [`pages::page_errors`] (HTML errors for pages) →
//! [`security::origin_check`] (S19) → [`auth::authorize`] (the role × route table
//! [`routes::ROUTES`], S5) → handler → store service (record-level checks, S6) → view.

pub mod api_types;
pub mod auth;
pub mod clock;
pub mod error;
pub mod export;
pub mod export_stream;
pub mod guard;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod rate_limit;
pub mod routes;
pub mod security;
pub mod session_cache;
pub mod startup;
mod store_map;
pub mod templates;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AppError, AppResult, ErrorBody};
pub use startup::{AppConfig, Application, ServeOptions, serve};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use peixun_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// Largest accepted request body (forms and JSON; uploads will get their own limit).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Password checks (argon2, on the blocking pool) running at once per process; one more is
/// answered 429 with `Retry-After` at once (S2).
pub const LOGIN_CONCURRENCY: usize = 4;
/// A request that takes longer than this is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a handler needs. Cheap to clone; holds no state another server process would need
/// (sessions live in the database).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Running with `--demo`: the yellow banner on every page.
    pub demo: bool,
    pub templates: Arc<templates::Templates>,
    pub config: Arc<AppConfig>,
    /// Bounds concurrent password checks (argon2 is deliberately slow): a login flood is
    /// answered 429, never with an exhausted server (S2).
    pub login_gate: Arc<tokio::sync::Semaphore>,
    /// Uploaded files (S16): `<data_dir>/files` or the shared location (`PEIXUN_FILES`),
    /// outside any served folder.
    pub files: peixun_store::files::FileStore,
    /// The key of the ID numbers' keyed hash for roster lookups (S14); the same as the store's
    /// (`store.keys()?.lookup`).
    pub roster_key: peixun_store::roster::RosterKey,
    /// `serve --demo --today`: the date the demo runs at (the banner says so).
    pub demo_today: Option<chrono::NaiveDate>,
    /// Public certificate verification, per client address (R-CRT-2); limits from
    /// [`AppConfig::verify_burst`] / [`AppConfig::verify_per_minute`].
    pub verify_limiter: Arc<rate_limit::RateLimiter>,
    /// Survey answers per client address (R-EVA-3): [`AppConfig::survey_burst`] /
    /// [`AppConfig::survey_per_minute`].
    pub survey_ip_limiter: Arc<rate_limit::RateLimiter>,
    /// Survey answers per survey link: twice the per-address limits.
    pub survey_token_limiter: Arc<rate_limit::RateLimiter>,
    /// Session checks of the last moments ([`session_cache`]; every write in this process
    /// drops them).
    pub sessions: Arc<session_cache::SessionCache>,
}

impl AppState {
    /// The store's keys when it has them (tests install fixed ones), else random keys held in
    /// memory and installed on the store (tools that keep nothing). `peixun serve` replaces
    /// them with the real ones through [`AppState::with_data_dir`].
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        demo: bool,
        config: AppConfig,
    ) -> anyhow::Result<Self> {
        let keys = match store.keys() {
            Ok(k) => k,
            Err(_) => {
                let k = peixun_store::pii::Keys::ephemeral();
                store.set_keys(k.clone());
                k
            }
        };
        let verify_limiter = Arc::new(rate_limit::RateLimiter::new(
            config.verify_burst_or_default(),
            config.verify_per_minute_or_default(),
        ));
        let survey_ip_limiter = Arc::new(rate_limit::RateLimiter::new(
            config.survey_burst_or_default(),
            config.survey_per_minute_or_default(),
        ));
        let survey_token_limiter = Arc::new(rate_limit::RateLimiter::new(
            config.survey_burst_or_default().saturating_mul(2),
            config.survey_per_minute_or_default().saturating_mul(2),
        ));
        Ok(AppState {
            verify_limiter,
            survey_ip_limiter,
            survey_token_limiter,
            sessions: Arc::new(session_cache::SessionCache::from_env()),
            store,
            clock,
            demo,
            templates: Arc::new(templates::Templates::new()?),
            config: Arc::new(config),
            login_gate: Arc::new(tokio::sync::Semaphore::new(LOGIN_CONCURRENCY)),
            // Until `with_data_dir`: a scratch folder (tests, tools).
            files: peixun_store::files::FileStore::local_with_keys(
                &std::env::temp_dir().join(format!("peixun-files-{}", std::process::id())),
                keys.data.clone(),
            ),
            roster_key: keys.lookup,
            demo_today: None,
        })
    }

    /// The keys of personal data (S14) from the environment or the data folder —
    /// `PEIXUN_ROSTER_KEY` / `<data_dir>/roster.key` (lookups) and `PEIXUN_DATA_KEY` /
    /// `<data_dir>/data.key` (AES-256-GCM; `data.key.old` too during a rotation), created on
    /// first start — installed on the store; files under `<data_dir>/files`, sealed with the
    /// same data key.
    pub fn with_data_dir(self, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        self.with_storage(
            data_dir,
            &peixun_store::files::FilesLocation::default_for(data_dir),
        )
    }

    /// [`AppState::with_data_dir`] with the files at `files` (`--files` / `PEIXUN_FILES`: a
    /// folder, or an S3-compatible bucket shared by several servers).
    pub fn with_storage(
        mut self,
        data_dir: &std::path::Path,
        files: &peixun_store::files::FilesLocation,
    ) -> anyhow::Result<Self> {
        let keys = peixun_store::pii::Keys::load_or_create(data_dir)
            .map_err(|e| anyhow::anyhow!("personal-data keys: {e}"))?;
        self.store.set_keys(keys.clone());
        self.files = peixun_store::files::FileStore::at(files, keys.data.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.roster_key = keys.lookup;
        Ok(self)
    }
}

/// The whole application: routes, the role × route check and the HTTP hardening.
pub fn router(state: AppState) -> Router {
    routes::routes()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // A panic in a handler: a logged 500 that still passes the error page, the request id
        // and the log line below (S18).
        .layer(CatchPanicLayer::custom(guard::panic_response))
        .layer(from_fn(auth::authorize))
        .layer(from_fn_with_state(state.clone(), security::origin_check))
        .layer(from_fn_with_state(state.clone(), pages::page_errors))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(from_fn_with_state(state.clone(), auth::request_context))
        .layer(from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(from_fn(security::security_headers))
        // …and one outside everything, for a panic in the middleware itself.
        .layer(CatchPanicLayer::custom(guard::panic_response))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound("该页面".into())
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
