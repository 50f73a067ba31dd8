//! `TestApp`: the app on a fresh database with one user per role (crates.io's `TestApp` habit).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_server::{AppConfig, AppState, ManualClock, router};
use peixun_store::accounts::{self, NewUser};
use peixun_store::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use peixun_store::teachers::{self, TeacherInput, TeacherQualification};
use peixun_store::testing::{TestDbGuard, postgres_fresh, sqlite_temp};
use peixun_store::{Actor, Backend, Store, sessions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

pub const PASSWORD: &str = "Haizhu#Test2026";

/// Runs an `async fn(Backend)` test on both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(peixun_store::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(peixun_store::Backend::Postgres).await
            }
        }
    )*};
}

/// The callers of the role × route table: anonymous and one user per role, with two
/// institutions (A and B) for the cross-institution (S6) cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Anonymous,
    CentreAdmin,
    CentreStaff,
    Bureau,
    City,
    InstAAdmin,
    InstAStaff,
    InstBAdmin,
    Auditor,
    Sysadmin,
}

impl Who {
    pub const ALL: [Who; 10] = [
        Who::Anonymous,
        Who::CentreAdmin,
        Who::CentreStaff,
        Who::Bureau,
        Who::City,
        Who::InstAAdmin,
        Who::InstAStaff,
        Who::InstBAdmin,
        Who::Auditor,
        Who::Sysadmin,
    ];

    pub fn username(self) -> &'static str {
        match self {
            Who::Anonymous => "",
            Who::CentreAdmin => "centre_admin",
            Who::CentreStaff => "centre_staff",
            Who::Bureau => "bureau",
            Who::City => "city",
            Who::InstAAdmin => "inst_a_admin",
            Who::InstAStaff => "inst_a_staff",
            Who::InstBAdmin => "inst_b_admin",
            Who::Auditor => "auditor",
            Who::Sysadmin => "sysadmin",
        }
    }

    pub fn role(self) -> Option<Role> {
        Some(match self {
            Who::Anonymous => return None,
            Who::CentreAdmin => Role::CentreAdmin,
            Who::CentreStaff => Role::CentreStaff,
            Who::Bureau => Role::Bureau,
            Who::City => Role::City,
            Who::InstAAdmin | Who::InstBAdmin => Role::InstitutionAdmin,
            Who::InstAStaff => Role::InstitutionStaff,
            Who::Auditor => Role::Auditor,
            Who::Sysadmin => Role::Sysadmin,
        })
    }
}

/// GB 32100 check character (test data only).
pub fn credit_code(first17: &str) -> String {
    const A: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = first17
        .chars()
        .zip(W)
        .map(|(c, w)| A.find(c).expect("credit code alphabet") * w)
        .sum();
    let check = A.chars().nth((31 - sum % 31) % 31).expect("check");
    format!("{first17}{check}")
}

/// GB 11643 check character (test data only).
pub fn citizen_id(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    format!("{first17}{}", C[(sum % 11) as usize])
}

pub fn institution_input(name: &str, code17: &str) -> InstitutionInput {
    InstitutionInput {
        name: name.into(),
        credit_code: credit_code(code17),
        confirm_checksum_warning: false,
        registered_address: "广州市海珠区新港中路1号".into(),
        district: None,
        contact_person: "陈主任".into(),
        contact_phone: "020-84001234".into(),
        qualifications: vec![Qualification {
            occupation: "育婴员".into(),
            level: "初级".into(),
        }],
        major_project_capable: true,
        major_projects: vec!["南粤家政".into()],
        status: InstitutionStatus::Active,
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The first sheet of an `.xlsx` body, read back with calamine: every row as text (the
    /// header row first). Panics when the body is not a workbook.
    pub fn xlsx_rows(&self) -> Vec<Vec<String>> {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(self.body.clone()))
            .unwrap_or_else(|e| panic!("not an xlsx workbook: {e}"));
        let range = wb
            .worksheet_range_at(0)
            .expect("a first sheet")
            .expect("a readable sheet");
        range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }
}

pub struct Session {
    pub token: String,
    pub csrf: String,
}

pub struct TestApp {
    pub router: Router,
    #[allow(dead_code)]
    pub state: AppState,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub inst_a: i64,
    pub inst_b: i64,
    pub teacher_a: i64,
    /// A throw-away account for the sysadmin routes that change users.
    pub spare_user: i64,
    users: HashMap<Who, i64>,
    sessions: Mutex<HashMap<Who, Arc<Session>>>,
    _guard: TestDbGuard,
}

/// Mark every account so far exempt from TOTP (a test-only write; the product's only writer
/// of the flag is the demo seeder, `peixun_store::totp::set_exempt`).
pub async fn exempt_from_totp(store: &Store) {
    peixun_store::testing::exempt_all_users_from_totp(store)
        .await
        .expect("exempt the harness users from TOTP");
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_demo(backend, false).await
    }

    pub async fn with_demo(backend: Backend, demo: bool) -> TestApp {
        // Logs of the app under test: PEIXUN_TEST_LOG=debug cargo test …
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("PEIXUN_TEST_LOG"))
            .try_init();
        let (store, guard) = match backend {
            Backend::Sqlite => sqlite_temp().await,
            Backend::Postgres => postgres_fresh().await,
        };
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0)
                .single()
                .expect("time"),
        ));
        let now = clock_now(&clock);
        let system = Actor::system("test");
        let a = institutions::create_institution(
            &store,
            &system,
            &institution_input("海珠区甲职业培训学校", "91440105MA59A0000"),
            now,
        )
        .await
        .expect("institution A");
        let b = institutions::create_institution(
            &store,
            &system,
            &institution_input("海珠区乙职业培训学校", "91440105MA59B0000"),
            now,
        )
        .await
        .expect("institution B");
        let t = teachers::create_teacher(
            &store,
            &system,
            a.id,
            &TeacherInput {
                name: "李老师".into(),
                id_number: citizen_id("44010519800101123"),
                phone: "13800138000".into(),
                qualifications: vec![TeacherQualification {
                    occupation: "育婴员".into(),
                    level: "初级".into(),
                    certificate_no: "Z2024001".into(),
                }],
                active: true,
            },
            now,
        )
        .await
        .expect("teacher of A");
        let mut users = HashMap::new();
        for who in Who::ALL {
            let Some(role) = who.role() else { continue };
            let institution_id = match who {
                Who::InstAAdmin | Who::InstAStaff => Some(a.id),
                Who::InstBAdmin => Some(b.id),
                _ => None,
            };
            let u = accounts::create_user(
                &store,
                &system,
                NewUser {
                    username: who.username().into(),
                    display_name: format!("测试{}", role.label_zh()),
                    role,
                    institution_id,
                    password: PASSWORD.into(),
                    must_change_password: false,
                },
                now,
            )
            .await
            .unwrap_or_else(|e| panic!("user {who:?}: {e}"));
            users.insert(who, u.id);
        }
        let spare = accounts::create_user(
            &store,
            &system,
            NewUser {
                username: "spare".into(),
                display_name: "备用账号".into(),
                role: Role::City,
                institution_id: None,
                password: PASSWORD.into(),
                must_change_password: false,
            },
            now,
        )
        .await
        .expect("spare user");
        // The harness's users stand for their roles (the S5 table, every feature test): they
        // are exempt from the TOTP enrolment gate, as demo accounts are. The gate and the second
        // step have their own tests (totp.rs) with accounts that are not.
        exempt_from_totp(&store).await;
        let dyn_clock: Arc<dyn peixun_server::Clock> = clock.clone();
        let state =
            AppState::new(store.clone(), dyn_clock, demo, AppConfig::default()).expect("app state");
        TestApp {
            router: router(state.clone()),
            state,
            store,
            clock,
            inst_a: a.id,
            inst_b: b.id,
            teacher_a: t.id,
            spare_user: spare.id,
            users,
            sessions: Mutex::new(HashMap::new()),
            _guard: guard,
        }
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        clock_now(&self.clock)
    }

    /// Move the clock to `at` and forget the cached sessions (they would have expired).
    pub fn set_clock(&self, at: chrono::DateTime<Utc>) {
        self.clock.set(at);
        self.sessions.lock().unwrap().clear();
    }

    pub fn user_id(&self, who: Who) -> i64 {
        self.users[&who]
    }

    /// A session for `who` (created directly in the store; the login routes have their own tests).
    pub async fn session(&self, who: Who) -> Option<Arc<Session>> {
        if who == Who::Anonymous {
            return None;
        }
        if let Some(s) = self.sessions.lock().unwrap().get(&who) {
            return Some(s.clone());
        }
        let s = Arc::new(self.fresh_session(who).await);
        self.sessions.lock().unwrap().insert(who, s.clone());
        Some(s)
    }

    /// A new session that is not cached (for logout tests).
    pub async fn fresh_session(&self, who: Who) -> Session {
        let now = clock_now(&self.clock);
        let token = sessions::create_session(&self.store, self.user_id(who), now)
            .await
            .expect("session");
        let info = sessions::lookup_session(&self.store, &token, now)
            .await
            .expect("lookup")
            .expect("live session");
        Session {
            token,
            csrf: info.csrf_token,
        }
    }

    /// Sends a request as a local client would arrive (peer 127.0.0.1) unless the request
    /// already names its peer (`ConnectInfo`).
    pub async fn send(&self, mut req: Request<Body>) -> TestResponse {
        if req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .is_none()
        {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                    [127, 0, 0, 1],
                    40000,
                ))));
        }
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// GET with the session cookie (pages) or nothing (anonymous).
    pub async fn get(&self, path: &str, who: Who) -> TestResponse {
        let mut b = Request::builder().method(Method::GET).uri(path);
        if let Some(s) = self.session(who).await {
            b = b.header(header::COOKIE, format!("peixun_session={}", s.token));
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    /// An API call with a bearer token.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        who: Who,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(s) = self.session(who).await {
            b = b.header(header::AUTHORIZATION, format!("Bearer {}", s.token));
        }
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).expect("request")).await
    }

    pub async fn get_api(&self, path: &str, who: Who) -> TestResponse {
        self.api(Method::GET, path, who, None).await
    }

    /// A page form POST with the session cookie and that session's CSRF token.
    pub async fn post_form(&self, path: &str, who: Who, fields: &[(&str, &str)]) -> TestResponse {
        let s = self.session(who).await;
        let csrf = s.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, s.as_deref().map(|s| s.token.as_str()), &all, &[])
            .await
    }

    /// A form POST exactly as given (no token added).
    pub async fn post_form_raw(
        &self,
        path: &str,
        session_token: Option<&str>,
        fields: &[(&str, &str)],
        extra_headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(t) = session_token {
            b = b.header(header::COOKIE, format!("peixun_session={t}"));
        }
        for (k, v) in extra_headers {
            b = b.header(*k, *v);
        }
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(b.body(Body::from(body)).expect("request")).await
    }
}

fn clock_now(c: &ManualClock) -> chrono::DateTime<Utc> {
    use peixun_server::Clock;
    c.now()
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
