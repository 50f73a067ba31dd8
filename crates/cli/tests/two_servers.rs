//! Two `peixun serve` processes on one PostgreSQL database (issue 12 item 5; SECURITY.md S9,
//! S14): how peixun runs behind a load balancer. Each server has its own data folder; they share
//! the database, the files location (`PEIXUN_FILES`, here a folder both see) and the keys
//! (`PEIXUN_DATA_KEY`, `PEIXUN_ROSTER_KEY`). Then:
//!
//! * 64 clients, split across the two servers, race for the last k slots of a round: every
//!   answer 200, exactly k granted, every place and slot number once, one filing per package;
//! * a document uploaded through one server downloads through the other, byte for byte, and
//!   sits sealed in the shared location, not in either data folder;
//! * a trainee filed through server 1 and entered on another institution's roster through
//!   server 2 is flagged as an overlapping enrolment (both servers hash ID numbers alike);
//! * the monthly report reminders due that day are sent once, by one of the two servers, although
//!   both started their job runner at the same moment;
//! * a third server with a data folder of its own and no keys configured is refused at start.
//!
//! The servers run with `--demo --today 2026-06-24` (a day the June reminders are due) on a
//! database the test has filled first: demo mode seeds nothing where institutions exist, and is
//! used here only to fix the date. The packages are prepared through the store (not timed), as
//! the in-process queue test does. Skipped without `PEIXUN_TEST_PG_URL`.

mod crash;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use crash::http::{Resp, request, send};
use crash::server::{Backend, Server};
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use peixun_store::files::{FileStore, FilesLocation};
use peixun_store::pii::{DataKey, DataKeys, Keys, RosterKey};
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::{Actor, Store, accounts, agreements, institutions, rounds};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value as J, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

const PASSWORD: &str = "Two#Servers-2026";
const CLIENTS: usize = 64;
const INSTITUTIONS: usize = 4;
/// Slots taken before the race, and the last slots raced for.
const PREFILL: u32 = 2;
const K: u32 = 3;
const OCCUPATION: &str = "家政服务员";
const LEVEL: &str = "初级";
const START_LIMIT: StdDuration = StdDuration::from_secs(60);

/// The day both servers run at (`--today`): the June report is due on the 25th, its
/// reminders on the 22nd and the 24th (R-RUN-3).
fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 24).unwrap()
}

/// Now, moved to [`day`] by whole days, as `serve --today` moves its clock.
fn shifted_now() -> chrono::DateTime<Utc> {
    let real = Utc::now();
    let beijing = (real + Duration::hours(8)).date_naive();
    real + Duration::days((day() - beijing).num_days())
}

/// A GB 32100 credit code with a valid check character.
fn credit_code(n: u64) -> String {
    const A: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let first17 = format!("52440105{:09}", n % 1_000_000_000);
    let sum: usize = first17
        .chars()
        .zip(W)
        .map(|(c, w)| A.find(c).unwrap_or(0) * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{first17}{}", A.chars().nth(check).unwrap())
}

fn hex32(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn actor(role: Role, institution_id: Option<i64>, name: &str) -> Actor {
    Actor {
        user_id: None,
        username: name.to_string(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

/// A temporary folder, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "peixun-two-{tag}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the test prepared through the store before the servers start.
struct Fixture {
    round: i64,
    /// Institution ids, and their admins' user names.
    institutions: Vec<(i64, String)>,
    /// Submitted before the race: (package, institution index).
    prefill: Vec<(i64, usize)>,
    /// Raced: package `c` belongs to institution `c % INSTITUTIONS`.
    race: Vec<i64>,
    /// Complete drafts for the file and overlap checks: institution 0's and institution 1's.
    p1: i64,
    p2: i64,
}

async fn prepare(url: &str, files: &Path, keys: &Keys) -> Fixture {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.set_keys(keys.clone());
    let fs = FileStore::at(
        &FilesLocation::Folder(files.to_path_buf()),
        keys.data.clone(),
    )
    .expect("files");
    let now = shifted_now();
    let today = day();
    let admin = actor(Role::CentreAdmin, None, "two-servers-centre");
    let system = Actor::system("two-servers");
    let r = rounds::create_round(
        &store,
        &admin,
        &rounds::RoundInput {
            year: today.year(),
            half: Half::Other,
            label: "双服务器并发批次".into(),
            base_planned: PREFILL + K,
            window_start: today - Duration::days(1),
            window_end: today + Duration::days(30),
            target_groups: Vec::new(),
            call_text: "两台服务器共用一个数据库".into(),
        },
        now,
    )
    .await
    .expect("round");
    rounds::publish_round(&store, &admin, r.id, now)
        .await
        .expect("publish");
    let mut insts = Vec::new();
    let mut agreement_ids = Vec::new();
    for i in 0..INSTITUTIONS {
        let inst = institutions::create_institution(
            &store,
            &system,
            &institutions::InstitutionInput {
                name: format!("双服务器培训机构{i}"),
                credit_code: credit_code(900 + i as u64),
                confirm_checksum_warning: false,
                registered_address: format!("广州市海珠区并发路{i}号"),
                district: None,
                contact_person: "测试".into(),
                contact_phone: "13800138000".into(),
                qualifications: vec![institutions::Qualification {
                    occupation: OCCUPATION.into(),
                    level: LEVEL.into(),
                }],
                major_project_capable: false,
                major_projects: Vec::new(),
                status: institutions::InstitutionStatus::Active,
            },
            now,
        )
        .await
        .expect("institution");
        let username = format!("two_inst_{i}");
        accounts::create_user(
            &store,
            &system,
            accounts::NewUser {
                username: username.clone(),
                display_name: format!("机构{i}管理员"),
                role: Role::InstitutionAdmin,
                institution_id: Some(inst.id),
                password: PASSWORD.into(),
                must_change_password: false,
            },
            now,
        )
        .await
        .expect("account");
        let staff = actor(Role::InstitutionStaff, Some(inst.id), &username);
        let app = agreements::apply_to_round(
            &store,
            &staff,
            &agreements::ApplicationInput {
                round_id: r.id,
                occupations: vec![OCCUPATION.into()],
                classes_requested: 1000,
                note: String::new(),
            },
            now,
        )
        .await
        .expect("apply");
        let signed = agreements::sign_agreement(
            &store,
            &admin,
            &agreements::SignInput {
                application_id: app.id,
                first_cap: Some(10_000),
                override_cap: None,
            },
            now,
        )
        .await
        .expect("sign");
        insts.push((inst.id, username));
        agreement_ids.push(signed.id);
    }
    let start = ready_package::first_possible_start(
        &peixun_store::calendar::load(store.db()).await.unwrap(),
        &peixun_domain::policy::Policy::haizhu_default(),
        today,
        today,
        9,
    )
    .expect("a start date in the loaded calendar");
    // Complete packages, one task per institution (not timed): prefill, race, p1/p2.
    let mut wanted: Vec<Vec<usize>> = vec![Vec::new(); INSTITUTIONS];
    let total = PREFILL as usize + CLIENTS + 2;
    for n in 0..total {
        let inst = match n {
            0 => 0,
            1 => 1,
            n if n < total - 2 => (n - PREFILL as usize) % INSTITUTIONS,
            n if n == total - 2 => 0,
            _ => 1,
        };
        wanted[inst].push(n);
    }
    let mut tasks = Vec::new();
    for (i, ns) in wanted.into_iter().enumerate() {
        let (store, fs, keys) = (store.clone(), fs.clone(), keys.clone());
        let staff = actor(Role::InstitutionStaff, Some(insts[i].0), &insts[i].1);
        let ag = agreement_ids[i];
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for n in ns {
                let mut spec = ReadyPackage::new(ag, OCCUPATION, LEVEL, start);
                spec.roster_seed = 70_000 + n as u64 * 131;
                spec.trainees = 20;
                let id = ready_package::prepare(&store, &fs, &keys.lookup, &staff, &spec, now)
                    .await
                    .expect("package");
                out.push((n, id));
            }
            out
        }));
    }
    let mut by_n = vec![0i64; total];
    for t in tasks {
        for (n, id) in t.await.unwrap() {
            by_n[n] = id;
        }
    }
    store.close().await.expect("close");
    Fixture {
        round: r.id,
        institutions: insts,
        prefill: vec![(by_n[0], 0), (by_n[1], 1)],
        race: by_n[PREFILL as usize..total - 2].to_vec(),
        p1: by_n[total - 2],
        p2: by_n[total - 1],
    }
}

fn login(port: u16, username: &str) -> String {
    let r = request(
        port,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": username, "password": PASSWORD })),
    )
    .expect("login answered");
    assert_eq!(r.status, 200, "login: {}", r.body);
    r.json()["token"].as_str().expect("token").to_string()
}

fn ok(r: Result<Resp, crash::http::NoAnswer>, what: &str) -> Resp {
    let r = r.unwrap_or_else(|e| panic!("{what}: no answer ({})", e.0));
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    r
}

/// A roster (.csv) with `first` followed by 19 synthetic people of `seed`.
fn roster_csv(first: &[String; 6], seed: u64) -> Vec<u8> {
    let mut csv = peixun_domain::roster::ROSTER_HEADERS.join(",");
    csv.push('\n');
    let rest = peixun_store::roster::synthetic_rows(19, seed);
    for r in std::iter::once(first).chain(rest.iter()) {
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    csv.into_bytes()
}

async fn query(url: &str, sql: &str) -> Vec<sea_orm::QueryResult> {
    let store = Store::connect(url).await.expect("connect");
    let rows = store
        .db()
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            sql.to_string(),
        ))
        .await
        .expect(sql);
    store.close().await.expect("close");
    rows
}

fn i64s(rows: &[sea_orm::QueryResult], col: &str) -> Vec<i64> {
    rows.iter()
        .map(|r| r.try_get::<i64>("", col).expect(col))
        .collect()
}

#[test]
fn s9_s14_two_servers_on_one_postgres_share_the_queue_files_keys_and_jobs() {
    if std::env::var("PEIXUN_TEST_PG_URL").is_err() {
        eprintln!("skipped: PEIXUN_TEST_PG_URL is not set (two servers need PostgreSQL)");
        return;
    }
    let begun = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let backend = Backend::fresh_postgres(&rt);
    let Backend::Postgres { url, .. } = &backend else {
        unreachable!()
    };
    let url = url.clone();
    let shared = Dir::new("files");
    let (d1, d2, d3) = (Dir::new("srv1"), Dir::new("srv2"), Dir::new("srv3"));
    let (data_key, _) = DataKey::generate();
    let (roster_key, _) = DataKey::generate();
    let keys = Keys::new(RosterKey::new(roster_key), DataKeys::new(data_key));
    let fx = rt.block_on(prepare(&url, &shared.0, &keys));
    let prepared = begun.elapsed();

    // Both servers start at the same moment, configured alike: one files location, one pair of
    // keys (the data folders hold neither).
    let (data_hex, roster_hex) = (hex32(&data_key), hex32(&roster_key));
    let files_env = shared.0.display().to_string();
    let env = [
        ("PEIXUN_FILES", files_env.as_str()),
        ("PEIXUN_DATA_KEY", data_hex.as_str()),
        ("PEIXUN_ROSTER_KEY", roster_hex.as_str()),
    ];
    let args = ["--demo", "--today", "2026-06-24"];
    let logs = Dir::new("logs");
    let mut s1 = Server::spawn_with(&backend, &d1.0, &logs.0.join("s1.log"), &args, &env);
    let mut s2 = Server::spawn_with(&backend, &d2.0, &logs.0.join("s2.log"), &args, &env);
    let (p1, _) = s1.wait_ready(START_LIMIT);
    let (p2, _) = s2.wait_ready(START_LIMIT);
    let ports = [p1, p2];
    let pids = [s1.pid(), s2.pid()];
    let tokens: Vec<[String; 2]> = fx
        .institutions
        .iter()
        .map(|(_, u)| [login(p1, u), login(p2, u)])
        .collect();

    // --- The race (S9): the last K slots, 64 clients on two servers. ---------------------------
    let mut filings: Vec<J> = Vec::new();
    for (pkg, i) in &fx.prefill {
        let r = ok(
            request(
                p1,
                "POST",
                &format!("/api/v1/packages/{pkg}/submit"),
                Some(&tokens[*i][0]),
                None,
            ),
            "prefill",
        );
        assert_eq!(r.json()["filing"]["slot_state"], "holding", "{}", r.body);
        filings.push(r.json()["filing"].clone());
    }
    let barrier = std::sync::Barrier::new(CLIENTS);
    let race = Instant::now();
    let answers: Vec<(usize, Resp)> = std::thread::scope(|s| {
        let handles: Vec<_> = fx
            .race
            .iter()
            .enumerate()
            .map(|(c, pkg)| {
                let (barrier, tokens) = (&barrier, &tokens);
                // Institution c % 4; its packages alternate between the servers.
                let (inst, server) = (c % INSTITUTIONS, (c / INSTITUTIONS) % 2);
                s.spawn(move || {
                    barrier.wait();
                    let r = request(
                        ports[server],
                        "POST",
                        &format!("/api/v1/packages/{pkg}/submit"),
                        Some(&tokens[inst][server]),
                        None,
                    )
                    .unwrap_or_else(|e| panic!("submission {c}: no answer ({})", e.0));
                    (server, r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let race_time = race.elapsed();
    for (_, r) in &answers {
        assert_eq!(r.status, 200, "every submission answered 200: {}", r.body);
    }
    for server in 0..2 {
        assert_eq!(
            answers.iter().filter(|(s, _)| *s == server).count(),
            CLIENTS / 2,
            "half the clients on each server"
        );
    }
    let granted: Vec<usize> = answers
        .iter()
        .filter(|(_, r)| r.json()["filing"]["slot_state"] == "holding")
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(granted.len() as u32, K, "exactly K granted in the race");
    filings.extend(answers.iter().map(|(_, r)| r.json()["filing"].clone()));
    let n = PREFILL as usize + CLIENTS;
    let ids: BTreeSet<i64> = filings.iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), n, "one filing per package, none twice");
    let places: BTreeSet<i64> = filings
        .iter()
        .map(|f| f["queue_seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        places,
        (1..=n as i64).collect::<BTreeSet<_>>(),
        "places 1..=n, none twice"
    );
    let slots: Vec<i64> = filings
        .iter()
        .filter(|f| f["slot_state"] == "holding")
        .map(|f| f["slot_no"].as_i64().expect("a holding filing has a slot"))
        .collect();
    assert_eq!(slots.len() as u32, PREFILL + K);
    assert_eq!(
        slots.iter().copied().collect::<BTreeSet<_>>(),
        (1..=(PREFILL + K) as i64).collect::<BTreeSet<_>>(),
        "the quota full, each slot number once"
    );
    // The public bulletin, from either server, says the same (R-FIL-6 made visible).
    for port in ports {
        let b = ok(
            request(
                port,
                "GET",
                &format!("/api/v1/rounds/{}/bulletin", fx.round),
                None,
                None,
            ),
            "bulletin",
        )
        .json();
        assert_eq!(b["granted"], PREFILL + K, "{b}");
        assert_eq!(b["remaining"], 0, "{b}");
        assert_eq!(b["waiting"], CLIENTS as u32 - K, "{b}");
        assert_eq!(b["entries"].as_array().map(Vec::len), Some(n));
    }

    // --- Files: uploaded through one server, downloaded through the other. --------------------
    let doc = |tag: &str| {
        format!(
            "%PDF-1.4\n% two servers {tag} {}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
            fx.round
        )
        .into_bytes()
    };
    for (pkg, inst, up, down) in [(fx.p1, 0, 0, 1), (fx.p2, 1, 1, 0)] {
        let body = doc(&format!("{pkg}"));
        ok(
            send(
                ports[up],
                "POST",
                &format!("/api/v1/packages/{pkg}/files/brochure?name=brochure.pdf"),
                Some(&tokens[inst][up]),
                Some(("application/octet-stream", &body)),
            ),
            "upload",
        );
        let got = ok(
            send(
                ports[down],
                "GET",
                &format!("/api/v1/packages/{pkg}/files/brochure"),
                Some(&tokens[inst][down]),
                None,
            ),
            "download from the other server",
        );
        assert_eq!(got.bytes, body, "the same bytes through the other server");
    }
    // Everything in the shared location, sealed (S14); nothing in the servers' data folders.
    let mut stored = Vec::new();
    let mut stack = vec![shared.0.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                stored.push(e.path());
            }
        }
    }
    assert!(stored.len() >= 7 * (n + 2), "{} files", stored.len());
    for f in &stored {
        assert!(
            std::fs::read(f).unwrap().starts_with(b"PXE1"),
            "{}",
            f.display()
        );
    }
    assert!(!d1.0.join("files").exists() && !d2.0.join("files").exists());

    // --- The same trainee through both servers (S14: one lookup key). -------------------------
    let person = peixun_store::roster::synthetic_rows(1, 424_242).remove(0);
    let first = ok(
        send(
            p1,
            "POST",
            &format!("/api/v1/packages/{}/roster", fx.p1),
            Some(&tokens[0][0]),
            Some(("text/csv", &roster_csv(&person, 1_111))),
        ),
        "roster through server 1",
    )
    .json();
    assert_eq!(first["imported"], 20, "{first}");
    assert_eq!(first["overlaps"], json!([]), "{first}");
    ok(
        request(
            p1,
            "POST",
            &format!("/api/v1/packages/{}/submit", fx.p1),
            Some(&tokens[0][0]),
            None,
        ),
        "submit through server 1",
    );
    let second = ok(
        send(
            p2,
            "POST",
            &format!("/api/v1/packages/{}/roster", fx.p2),
            Some(&tokens[1][1]),
            Some(("text/csv", &roster_csv(&person, 2_222))),
        ),
        "roster through server 2",
    )
    .json();
    let overlaps = second["overlaps"].as_array().expect("overlaps");
    assert_eq!(overlaps.len(), 1, "the shared trainee is flagged: {second}");
    // Row 2 of the file: the first after the header.
    assert_eq!(overlaps[0]["row_number"], 2);
    assert_eq!(overlaps[0]["other_package_id"], fx.p1);
    assert_eq!(overlaps[0]["other_institution"], true);

    // --- Jobs: the reminders due today, sent once by one of the two (R-RUN-3). ----------------
    let periods: Vec<String> = rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let book = peixun_store::policies::PolicyHistory::load(store.db())
            .await
            .unwrap();
        store.close().await.unwrap();
        peixun_store::reports::due_reminder_periods(day(), &book)
            .iter()
            .map(|p| p.key())
            .collect()
    });
    assert!(!periods.is_empty(), "reminders are due on {}", day());
    let runs = loop {
        let runs = rt.block_on(query(
            &url,
            "SELECT period, holder, finished_at IS NOT NULL AS done FROM job_runs \
             WHERE job = 'monthly_report_reminder' ORDER BY period",
        ));
        let done = runs
            .iter()
            .filter(|r| r.try_get::<bool>("", "done").unwrap())
            .count();
        if done == periods.len() || begun.elapsed() > StdDuration::from_secs(60) {
            break runs;
        }
        std::thread::sleep(StdDuration::from_millis(50));
    };
    let mut seen: Vec<String> = Vec::new();
    for r in &runs {
        let period: String = r.try_get("", "period").unwrap();
        let holder: String = r.try_get("", "holder").unwrap();
        assert!(r.try_get::<bool>("", "done").unwrap(), "{period} finished");
        assert!(
            pids.iter().any(|p| holder.ends_with(&format!(":{p}"))),
            "{period} run by one of the two servers: {holder}"
        );
        seen.push(period);
    }
    let mut expected = periods.clone();
    expected.sort();
    assert_eq!(seen, expected, "each due period claimed once");
    let inbox = rt.block_on(query(
        &url,
        "SELECT institution_id, COUNT(*) AS n FROM inbox_messages GROUP BY institution_id \
         ORDER BY institution_id",
    ));
    let per_inst: Vec<(i64, i64)> = inbox
        .iter()
        .map(|r| {
            (
                r.try_get("", "institution_id").unwrap(),
                r.try_get("", "n").unwrap(),
            )
        })
        .collect();
    let want: Vec<(i64, i64)> = fx
        .institutions
        .iter()
        .map(|(id, _)| (*id, periods.len() as i64))
        .collect();
    assert_eq!(
        per_inst, want,
        "one reminder per institution and period, not two"
    );
    let audits = rt.block_on(query(
        &url,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'report.remind'",
    ));
    assert_eq!(i64s(&audits, "n"), vec![periods.len() as i64]);

    // --- A server with keys of its own is refused (S14). ---------------------------------------
    // Its data folder has no keys and none are configured: it would make new ones.
    let s3 = Server::spawn_with(
        &backend,
        &d3.0,
        &logs.0.join("s3.log"),
        &[],
        &[("PEIXUN_FILES", files_env.as_str())],
    );
    let refused = s3.wait_exit(START_LIMIT);
    assert!(
        !refused.success(),
        "a third server with other keys must not start"
    );
    let log = std::fs::read_to_string(logs.0.join("s3.log")).unwrap_or_default();
    assert!(log.contains("ROSTER_KEY_MISMATCH"), "{log}");

    eprintln!(
        "two servers: prepared {} packages in {:.1} s; race of {CLIENTS} clients for the last {K} \
         slots in {} ms (granted through server 1: {}, server 2: {}); {} reminder periods; \
         total {:.1} s",
        n + 2,
        prepared.as_secs_f64(),
        race_time.as_millis(),
        granted.iter().filter(|s| **s == 0).count(),
        granted.iter().filter(|s| **s == 1).count(),
        periods.len(),
        begun.elapsed().as_secs_f64()
    );
    s1.stop();
    s2.stop();
}
