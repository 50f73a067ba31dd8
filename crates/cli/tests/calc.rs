//! The calculator subcommands, run as a user runs them: the built binary, its stdout, stderr and
//! exit code. SPEC.md §5 examples through the CLI.

use std::process::{Command, Output};

fn peixun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peixun"))
        .args(args)
        .output()
        .expect("run peixun")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs, expects success, returns stdout trimmed.
fn ok(args: &[&str]) -> String {
    let o = peixun(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {:?}\nstderr: {}",
        o.status,
        stderr(&o)
    );
    stdout(&o).trim().to_string()
}

/// Runs, expects exit code `code`, returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let o = peixun(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}: stdout {}, stderr {}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&o).trim().is_empty(),
        "{args:?} printed on stdout: {}",
        stdout(&o)
    );
    stderr(&o)
}

fn cap_json(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["rules", "cap"];
    full.extend_from_slice(args);
    serde_json::from_str(&ok(&full)).expect("cap prints JSON")
}

// ---- rules cap ----

#[test]
fn r_cap_6_exactness_via_cli() {
    let v = cap_json(&[
        "--planned",
        "35",
        "--prev-planned",
        "24",
        "--prev-completed",
        "6",
        "--score",
        "95",
    ]);
    assert_eq!(v["cap"], 11);
    assert_eq!(v["suspended"], false);
    assert_eq!(v["unrounded"], "10.5");
    let trail = v["trail"].as_array().unwrap();
    assert!(
        trail
            .iter()
            .any(|t| t["kind"] == "growth_factor" && t["value"] == "35/24")
    );
    assert!(
        trail
            .iter()
            .all(|t| t["label"].is_string() && t["note"].is_string())
    );
}

#[test]
fn r_cap_worked_examples_via_cli() {
    let later = |c: &str, s: &str, p: &str, pp: &str, major: bool| {
        let mut a = vec![
            "--planned",
            p,
            "--prev-planned",
            pp,
            "--prev-completed",
            c,
            "--score",
            s,
        ];
        if major {
            a.push("--major");
        }
        cap_json(&a)["cap"].as_u64().unwrap()
    };
    assert_eq!(later("10", "95", "40", "40", false), 12);
    assert_eq!(later("10", "85", "40", "40", true), 12);
    assert_eq!(later("5", "85", "40", "40", false), 6);
    assert_eq!(later("10", "65", "40", "40", false), 9);
    assert_eq!(later("10", "61", "40", "40", false), 9);
    assert_eq!(later("10", "90.5", "40", "40", false), 11);
    assert_eq!(later("9", "75", "28", "24", false), 11);
}

#[test]
fn r_cap_2_first_agreement_via_cli() {
    let v = cap_json(&["--planned", "25", "--first", "--requested", "15"]);
    assert_eq!(v["cap"], 13);
    assert_eq!(v["global_cap"], 13);
    assert_eq!(v["clamped"], true);
}

#[test]
fn r_cap_3_suspended_via_cli() {
    for s in ["60", "60.5"] {
        let v = cap_json(&["--planned", "40", "--prev-completed", "10", "--score", s]);
        assert_eq!(v["cap"], 0, "{s}");
        assert_eq!(v["suspended"], true, "{s}");
    }
}

#[test]
fn r_cap_cli_rejects_bad_arguments() {
    // Score with two decimals.
    let e = fails(
        &[
            "rules",
            "cap",
            "--planned",
            "40",
            "--prev-completed",
            "10",
            "--score",
            "90.55",
        ],
        2,
    );
    assert!(e.contains("一位小数"), "{e}");
    // Score out of range.
    fails(
        &[
            "rules",
            "cap",
            "--planned",
            "40",
            "--prev-completed",
            "10",
            "--score",
            "101",
        ],
        2,
    );
    // Neither basis.
    fails(&["rules", "cap", "--planned", "40"], 2);
    // Both bases.
    fails(
        &[
            "rules",
            "cap",
            "--planned",
            "40",
            "--first",
            "--requested",
            "3",
            "--prev-completed",
            "1",
            "--score",
            "80",
        ],
        2,
    );
    // --first without --requested; --prev-completed without --score.
    fails(&["rules", "cap", "--planned", "40", "--first"], 2);
    fails(
        &["rules", "cap", "--planned", "40", "--prev-completed", "10"],
        2,
    );
    // P = 0 is refused by the rule.
    let e = fails(
        &[
            "rules",
            "cap",
            "--planned",
            "0",
            "--first",
            "--requested",
            "1",
        ],
        2,
    );
    assert!(e.contains("计划班次数"), "{e}");
    // Not a number.
    fails(
        &[
            "rules",
            "cap",
            "--planned",
            "forty",
            "--first",
            "--requested",
            "1",
        ],
        2,
    );
}

// ---- calendar ----

// ---- rules evaluation ----

fn evaluation_json(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["rules", "evaluation"];
    full.extend_from_slice(args);
    serde_json::from_str(&ok(&full)).expect("evaluation prints JSON")
}

const SPEC_EVALUATION: &[&str] = &[
    "--approved",
    "5",
    "--on-time",
    "4",
    "--cap",
    "6",
    "--general-findings",
    "1",
    "--late-rectifications",
    "1",
    "--archive",
    "96",
    "--archive",
    "90",
    "--archive",
    "100",
    "--archive",
    "89.5",
    "--satisfaction-mean",
    "4.6",
];

/// SPEC.md §5 evaluation: task 81, supervision 85, archives 93.875, satisfaction 90 → 86.175 →
/// 86.2; the next cap with C = 4 is 4 × 1.1 = 4.4 → 4 (`rules cap` with the same C and S).
#[test]
fn r_eva_1_spec_example_via_cli() {
    let v = evaluation_json(SPEC_EVALUATION);
    assert_eq!(v["score"], "86.2");
    assert_eq!(v["unrounded"], "86.175");
    let computed: Vec<&str> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["computed"].as_str().unwrap())
        .collect();
    assert_eq!(computed, ["81", "85", "93.875", "90"]);
    assert_eq!(v["band"]["factor"], "1.1");
    assert!(v["trail"].as_array().unwrap().len() > 10);
    let score = v["score"].as_str().unwrap();
    let cap = cap_json(&[
        "--planned",
        "40",
        "--prev-planned",
        "40",
        "--prev-completed",
        "4",
        "--score",
        score,
    ]);
    assert_eq!(cap["unrounded"], "4.4");
    assert_eq!(cap["cap"], 4);
}

#[test]
fn r_eva_1_cli_flags_low_response_rate_and_rejects_bad_input() {
    let mut a = SPEC_EVALUATION.to_vec();
    a.extend_from_slice(&["--responses", "5", "--trainees", "24"]);
    let v = evaluation_json(&a);
    assert!(
        v["components"][3]["flag"]
            .as_str()
            .unwrap()
            .contains("低于 30%")
    );
    // Same exit codes as `rules cap`: 2 for bad arguments and rules that cannot apply.
    let full = |edit: &dyn Fn(&mut Vec<&'static str>)| {
        let mut a = vec!["rules", "evaluation"];
        a.extend_from_slice(SPEC_EVALUATION);
        edit(&mut a);
        a
    };
    let e = fails(&full(&|a| a[5] = "6"), 2);
    assert!(e.contains("按时完成班次数"), "{e}");
    let e = fails(&full(&|a| *a.last_mut().unwrap() = "5.5"), 2);
    assert!(e.contains("满意度平均分"), "{e}");
    fails(&["rules", "evaluation", "--approved", "5"], 2);
    fails(&full(&|a| a.extend_from_slice(&["--responses", "5"])), 2);
}

#[test]
fn r_fil_3_deadline_via_cli() {
    assert_eq!(
        ok(&["calendar", "deadline", "--start", "2026-03-02"]),
        "2026-02-10"
    );
    assert_eq!(
        ok(&["calendar", "deadline", "--start", "2026-10-12"]),
        "2026-09-21"
    );
    assert_eq!(
        ok(&["calendar", "deadline", "--start", "2026-01-05"]),
        "2025-12-19"
    );
}

#[test]
fn r_fil_4_last_day_via_cli() {
    assert_eq!(
        ok(&["calendar", "last-day", "--start", "2026-03-02"]),
        "2026-04-01"
    );
}

#[test]
fn r_run_1_teacher_change_via_cli() {
    assert_eq!(
        ok(&["calendar", "teacher-change", "--effective", "2026-10-08"]),
        "2026-09-30"
    );
    assert_eq!(
        ok(&["calendar", "teacher-change", "--effective", "2026-03-02"]),
        "2026-02-28"
    );
}

#[test]
fn r_cal_1_shift_accepts_negative_and_zero() {
    assert_eq!(
        ok(&[
            "calendar",
            "shift",
            "--date",
            "2026-03-02",
            "--working-days",
            "-10"
        ]),
        "2026-02-10"
    );
    assert_eq!(
        ok(&[
            "calendar",
            "shift",
            "--date",
            "2026-03-02",
            "--working-days=-1"
        ]),
        "2026-02-28"
    );
    assert_eq!(
        ok(&[
            "calendar",
            "shift",
            "--date",
            "2026-02-13",
            "--working-days",
            "2"
        ]),
        "2026-02-24"
    );
    assert_eq!(
        ok(&[
            "calendar",
            "shift",
            "--date",
            "2026-03-07",
            "--working-days",
            "0"
        ]),
        "2026-03-07"
    );
}

#[test]
fn r_cal_1_year_not_loaded_via_cli() {
    let e = fails(&["calendar", "deadline", "--start", "2027-03-01"], 2);
    assert!(e.contains("2027年") && e.contains("not loaded"), "{e}");
    let e = fails(
        &[
            "calendar",
            "shift",
            "--date",
            "2025-01-03",
            "--working-days",
            "-5",
        ],
        2,
    );
    assert!(e.contains("2024"), "{e}");
}

#[test]
fn r_cal_1_bad_dates_via_cli() {
    let e = fails(&["calendar", "deadline", "--start", "2026-02-30"], 2);
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    fails(&["calendar", "last-day", "--start", "tomorrow"], 2);
    fails(
        &[
            "calendar",
            "shift",
            "--date",
            "2026-03-02",
            "--working-days",
            "x",
        ],
        2,
    );
    fails(&["calendar", "shift", "--date", "2026-03-02"], 2);
}

// ---- check ----

#[test]
fn check_id_valid_and_invalid() {
    let line = ok(&["check", "id", "440105199001011239"]);
    assert!(line.contains("居民身份证"), "{line}");
    assert!(
        !line.contains("440105199001011239"),
        "full number printed: {line}"
    );
    ok(&["check", "id", "11010519491231002x"]);
    let e = fails(&["check", "id", "440105199001011234"], 1);
    assert!(e.contains(" / "), "not bilingual: {e}");
    fails(&["check", "id", "12345"], 1);
}

#[test]
fn check_credit_code_valid_and_invalid() {
    let line = ok(&["check", "credit-code", "91350100M000100Y43"]);
    assert!(line.contains("91350100M000100Y43"), "{line}");
    let e = fails(&["check", "credit-code", "91350100M000100Y44"], 1);
    assert!(e.contains(" / "), "not bilingual: {e}");
    fails(&["check", "credit-code", "91350100M000100Y4"], 1);
    fails(&["check", "credit-code", "-"], 1);
}

/// `peixun rules cap … | head -1`: the reader goes away early; the calculator ends quietly
/// (killed by SIGPIPE like other Unix filters) instead of panicking with exit code 101.
#[test]
fn calculator_piped_into_a_closed_reader_does_not_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_peixun"))
        .args([
            "rules",
            "cap",
            "--planned",
            "35",
            "--prev-planned",
            "24",
            "--prev-completed",
            "6",
            "--score",
            "95",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn peixun");
    drop(child.stdout.take()); // the reader closes before anything is read
    let out = child.wait_with_output().expect("wait");
    assert_ne!(out.status.code(), Some(101), "panicked: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(
        out.status.success() || out.status.signal() == Some(libc_sigpipe()),
        "{:?}",
        out.status
    );
}

fn libc_sigpipe() -> i32 {
    13 // SIGPIPE on Linux
}

/// A scratch data folder, removed on drop.
struct DataDir(std::path::PathBuf);

impl DataDir {
    fn new(tag: &str) -> DataDir {
        let p = std::env::temp_dir().join(format!("peixun-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        DataDir(p)
    }
    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn r_cal_1_calendar_import_then_the_calculator_reads_the_database() {
    let dir = DataDir::new("cal");
    // A test fixture, not the State Council's 2027 notice.
    let good = dir.0.join("2027.toml");
    std::fs::write(
        &good,
        "[[year]]\nyear = 2027\nsource = \"测试用表\"\n[[year.off]]\nname = \"元旦\"\nfrom = 2027-01-01\nto = 2027-01-03\n",
    )
    .unwrap();
    let bad = dir.0.join("bad.toml");
    std::fs::write(
        &bad,
        "[[year]]\nyear = 2027\nsource = \"x\"\nworking_days = [\"2027-03-03\"]\n",
    )
    .unwrap();
    let d = dir.arg();

    // Every problem on its line; nothing saved; exit 1.
    let e = fails(
        &["calendar", "import", bad.to_str().unwrap(), "--data-dir", d],
        1,
    );
    assert!(e.contains("bad.toml:4:") && e.contains("2027-03-03"), "{e}");
    let e = fails(
        &[
            "calendar",
            "deadline",
            "--start",
            "2027-01-18",
            "--data-dir",
            d,
        ],
        2,
    );
    assert!(e.contains("2027年"), "{e}");

    let out = ok(&[
        "calendar",
        "import",
        good.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert!(out.contains("2027年 新载入"), "{out}");
    assert_eq!(
        ok(&[
            "calendar",
            "deadline",
            "--start",
            "2027-01-18",
            "--data-dir",
            d
        ]),
        "2027-01-04"
    );
    assert_eq!(
        ok(&[
            "calendar",
            "shift",
            "--date",
            "2027-01-04",
            "--working-days",
            "-1",
            "--data-dir",
            d
        ]),
        "2026-12-31"
    );
    // Without a database the calculator keeps the built-in tables.
    let e = fails(&["calendar", "deadline", "--start", "2027-01-18"], 2);
    assert!(e.contains("2027年"), "{e}");
    // A folder without a database is an error, not an empty calendar.
    let e = fails(
        &[
            "calendar",
            "deadline",
            "--start",
            "2026-03-02",
            "--data-dir",
            dir.0.join("nothing").to_str().unwrap(),
        ],
        2,
    );
    assert!(e.contains("没有数据库"), "{e}");
}
