//! Start-up: the first admin (S1: no default account), the demo seed, a real listener on port 0.

use peixun_server::{AppConfig, AppState, Application, SystemClock, startup};
use peixun_store::testing::sqlite_temp;
use peixun_store::{Actor, PageRequest, accounts, institutions};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn state(store: &peixun_store::Store, demo: bool) -> AppState {
    AppState::new(
        store.clone(),
        Arc::new(SystemClock),
        demo,
        AppConfig::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn s1_first_start_creates_a_one_time_admin_once() {
    let (store, _g) = sqlite_temp().await;
    let state = state(&store, false);
    startup::bootstrap(&state).await.unwrap();
    assert_eq!(accounts::count_users(&store).await.unwrap(), 1);
    let admin = accounts::find_user_by_username(&store, "admin")
        .await
        .unwrap()
        .unwrap();
    assert!(admin.must_change_password);
    assert_eq!(admin.role, peixun_domain::role::Role::Sysadmin);
    startup::bootstrap(&state).await.unwrap();
    assert_eq!(accounts::count_users(&store).await.unwrap(), 1);
}

#[tokio::test]
async fn demo_start_seeds_an_empty_database_once() {
    let (store, _g) = sqlite_temp().await;
    let count = || async {
        institutions::list_institutions(
            &store,
            &Actor::system("t"),
            &Default::default(),
            &PageRequest::first(1),
        )
        .await
        .unwrap()
        .total
    };
    // On today's real date (the demo runs "today"): every demo filing is a package that passed
    // the checks, with dates inside the loaded holiday tables.
    let state = state(&store, true);
    startup::bootstrap(&state).await.unwrap();
    let n = count().await;
    assert!(n > 0);
    startup::bootstrap(&state).await.unwrap();
    assert_eq!(count().await, n);
    // No one-time admin in demo mode: the demo accounts exist instead.
    assert!(
        accounts::find_user_by_username(&store, "admin")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn application_binds_port_zero_and_serves_http() {
    let (store, _g) = sqlite_temp().await;
    let state = AppState::new(store, Arc::new(SystemClock), false, AppConfig::default()).unwrap();
    let app = Application::build(state, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = app.port();
    assert_ne!(port, 0);
    let server = tokio::spawn(app.run_until_stopped());
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("x-request-id"));
    assert!(text.contains("{\"status\":\"ok\"}"));
    server.abort();
}

#[tokio::test]
async fn healthz_and_metrics() {
    let app = crate::harness::TestApp::new(peixun_store::Backend::Sqlite).await;
    use crate::harness::Who;
    let h = app.get_api("/healthz", Who::Anonymous).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    app.get_api("/api/v1/institutions", Who::City).await;
    let m = app.get_api("/metrics", Who::Anonymous).await;
    assert_eq!(m.status, 200);
    let text = m.text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("path=\"/api/v1/institutions\""), "{text}");
    assert!(text.contains("http_request_duration_seconds"), "{text}");
}

/// S21: `peixun serve` does not start on a SQLite database while `peixun restore` holds it (the
/// exclusive lock on `<db>.lock`), and holds the shared lock itself while it runs.
#[tokio::test]
async fn s21_serve_refuses_to_start_during_a_restore() {
    let dir = std::env::temp_dir().join(format!(
        "peixun-serve-lock-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("peixun.db");
    let restoring = std::fs::File::create(peixun_store::restore::lock_path(&db)).unwrap();
    restoring.try_lock().unwrap();
    let opts = startup::ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: None,
        data_dir: dir.clone(),
        files: None,
        demo: false,
        today: None,
    };
    let e = startup::serve(opts).await.unwrap_err();
    assert!(format!("{e:#}").contains("正在恢复"), "{e:#}");
    assert!(!db.exists(), "no database was created");
    drop(restoring);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--today` moves the clock for demos only: a real deployment never runs on a made-up date.
#[tokio::test]
async fn today_is_refused_without_demo() {
    let dir = std::env::temp_dir().join(format!(
        "peixun-serve-today-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = startup::ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: None,
        data_dir: dir.clone(),
        files: None,
        demo: false,
        today: chrono::NaiveDate::from_ymd_opt(2027, 1, 18),
    };
    let e = startup::serve(opts).await.unwrap_err();
    assert!(format!("{e:#}").contains("demo"), "{e:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn s14_serve_keys_from_the_data_folder_shared_by_store_and_files() {
    let (store, _g) = sqlite_temp().await;
    let dir = std::env::temp_dir().join(format!("peixun-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = state(&store, false).with_data_dir(&dir).unwrap();
    for name in ["data.key", "roster.key"] {
        let meta = std::fs::metadata(dir.join(name)).unwrap();
        assert_eq!(meta.len(), 32, "{name}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
    }
    // One data key for the store's rows and the files; one lookup key for imports and teachers.
    let keys = store.keys().unwrap();
    let id = keys.data.current_id().to_string();
    assert_eq!(s.files.data_keys().unwrap().current_id(), id);
    assert_eq!(
        s.roster_key.person_key("440105199001011234"),
        keys.lookup.person_key("440105199001011234")
    );
    // A restart reads the same keys; the start-up step finds nothing to convert.
    let again = state(&store, false).with_data_dir(&dir).unwrap();
    assert_eq!(again.store.keys().unwrap().data.current_id(), id);
    let report =
        peixun_store::at_rest::encrypt_legacy_rows(&again.store, &again.files, chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(report.changed(), 0);
    assert!(!format!("{:?} {:?}", again.roster_key, keys).contains(&hex_of(&dir.join("data.key"))));
    let _ = std::fs::remove_dir_all(&dir);
}

fn hex_of(path: &std::path::Path) -> String {
    std::fs::read(path)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
