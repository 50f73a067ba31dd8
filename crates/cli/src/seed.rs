//! `peixun seed --scale district|city|province`: synthetic data for benchmarks in a fresh
//! database (`peixun_store::seed_scale`), with a progress bar and the rows/s of each table.

use crate::admin::DbArgs;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use peixun_store::seed_scale::{self, Progress, Scale, SeedOptions, SeedReport};
use peixun_store::{Backend, Store};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Args)]
pub struct SeedArgs {
    /// 规模：district（约100家机构、2,000个班次、5万人次）、city（约十分之一省）、
    /// province（3,000家机构、6万个班次、150万人次）；tiny 供测试（6家机构）
    #[arg(long, value_parser = ["district", "city", "province", "tiny"])]
    pub scale: String,
    /// 随机种子（相同种子与日期生成相同数据）
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// 数据所处的“今天”（北京时间，默认今天），当前批次的班次分布在此日期前后
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<chrono::NaiveDate>,
    /// 以 JSON 输出结果（进度条仍输出到标准错误）
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// One bar per phase, on standard error.
struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl Progress for Bars {
    fn phase(&self, name: &str, total: u64) {
        let mut g = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = g.take() {
            b.finish();
        }
        if self.quiet {
            return;
        }
        let b = ProgressBar::new(total.max(1));
        b.set_style(
            ProgressStyle::with_template(
                "{msg:32} [{bar:30}] {pos:>9}/{len:9} {per_sec:>12} {elapsed_precise}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message(name.to_string());
        *g = Some(b);
    }

    fn inc(&self, n: u64) {
        let g = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = g.as_ref() {
            let pos = b.position() + n;
            if b.length().is_some_and(|l| pos > l) {
                b.set_length(pos);
            }
            b.inc(n);
        }
    }
}

impl Bars {
    fn done(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish();
        }
    }
}

pub async fn run(a: SeedArgs) -> ExitCode {
    let Some(scale) = Scale::parse(&a.scale) else {
        eprintln!("错误：未知的规模 {}", a.scale);
        return ExitCode::from(2);
    };
    if let Err(e) = peixun_store::private_fs::create_private_dir(&a.db.data_dir) {
        eprintln!("错误：数据目录：{e}");
        return ExitCode::from(2);
    }
    let url = peixun_store::resolve_database_url(a.db.database_url.as_deref(), &a.db.data_dir);
    // Like `serve`: no restore may replace the file while we write it.
    let _lock = match peixun_store::restore::sqlite_file_of(&url) {
        Some(path) => match peixun_store::restore::ServeLock::acquire(&path) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("错误：{e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    // PostgreSQL: this command's own sessions commit without waiting for the WAL flush
    // (`synchronous_commit = off`; a fresh database — a crash means seeding again). The
    // database's settings are untouched.
    let connect_url = if url.starts_with("postgres") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20synchronous_commit%3Doff")
    } else {
        url.clone()
    };
    let store = match Store::connect(&connect_url).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("错误：无法打开数据库：{e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = store.migrate().await {
        eprintln!("错误：数据库迁移失败：{e}");
        return ExitCode::from(2);
    }
    // The data folder's keys, exactly as `serve --data-dir` loads them.
    let keys = match peixun_store::pii::Keys::load_or_create(&a.db.data_dir) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("错误：个人信息密钥：{e}");
            return ExitCode::from(2);
        }
    };
    store.set_keys(keys.clone());
    let files = peixun_store::files::FileStore::local_with_keys(&a.db.data_dir, keys.data.clone());
    let now = match a.today {
        Some(d) => {
            use chrono::TimeZone;
            let local = peixun_domain::rules::shanghai()
                .from_local_datetime(&d.and_hms_opt(12, 0, 0).unwrap_or_default())
                .single();
            local.map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc))
        }
        None => chrono::Utc::now(),
    };
    let opts = SeedOptions {
        sizes: scale.sizes(),
        seed: a.seed,
        now,
    };
    let bars = Bars {
        bar: Mutex::new(None),
        quiet: false,
    };
    let t0 = Instant::now();
    let report = match seed_scale::seed(&store, &files, &keys.lookup, &opts, &bars).await {
        Ok(r) => r,
        Err(e) => {
            bars.done();
            eprintln!("错误：生成模拟数据失败：{e}");
            return ExitCode::FAILURE;
        }
    };
    bars.done();
    let size = database_size(&store, &url).await;
    let mut json = serde_json::to_value(&report).unwrap_or_default();
    json["database_bytes"] = serde_json::json!(size);
    json["data_dir"] = serde_json::json!(a.db.data_dir.display().to_string());
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    let path = a.db.data_dir.join("seed.json");
    if let Err(e) = std::fs::write(&path, format!("{text}\n")) {
        eprintln!("警告：无法写入 {}：{e}", path.display());
    }
    if a.json {
        println!("{text}");
    } else {
        print_summary(&report, size, t0.elapsed().as_secs_f64(), &path, &a);
    }
    let _ = store.close().await;
    ExitCode::SUCCESS
}

async fn database_size(store: &Store, url: &str) -> Option<u64> {
    match store.backend() {
        Backend::Sqlite => {
            let path = peixun_store::restore::sqlite_file_of(url)?;
            let mut n = std::fs::metadata(&path).ok()?.len();
            for ext in ["-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(ext);
                n += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            }
            Some(n)
        }
        Backend::Postgres => seed_scale::postgres_database_bytes(store).await,
    }
}

fn print_summary(
    r: &SeedReport,
    size: Option<u64>,
    secs: f64,
    path: &std::path::Path,
    a: &SeedArgs,
) {
    println!(
        "模拟数据已生成（{}，种子 {}，今天 {}）：{} 家机构、{} 个开班备案、{} 人次，用时 {:.1} 秒",
        r.scale.code(),
        r.seed,
        r.today,
        r.institutions,
        r.classes,
        r.enrolments,
        secs
    );
    if let Some(n) = size {
        println!("数据库大小：{:.1} MB", n as f64 / 1024.0 / 1024.0);
    }
    println!();
    println!(
        "{:<26} {:>10} {:>9} {:>12}",
        "表 table", "行 rows", "秒 s", "行/秒 rows/s"
    );
    let (mut rows, mut s) = (0u64, 0f64);
    for t in &r.tables {
        println!(
            "{:<26} {:>10} {:>9.2} {:>12.0}",
            t.table, t.rows, t.seconds, t.rows_per_second
        );
        rows += t.rows;
        s += t.seconds;
    }
    println!(
        "{:<26} {:>10} {:>9.2} {:>12.0}",
        "合计 total",
        rows,
        s,
        if s > 0.0 { rows as f64 / s } else { 0.0 }
    );
    println!();
    println!(
        "开班备案状态：{}",
        serde_json::to_string(&r.filing_states).unwrap_or_default()
    );
    println!(
        "机构A（inst_a_*）id {}，机构B（inst_b_*）id {}",
        r.institution_a, r.institution_b
    );
    println!(
        "当前批次 id {}；备案最多的批次 id {}（{} 份）",
        r.open_round_id, r.busiest_round_id, r.busiest_round_filings
    );
    if let Some(b) = &r.big_class {
        println!(
            "{} 人班次：备案/班次 id {}，备案材料 id {}（{}）",
            b.trainees, b.filing_id, b.package_id, b.status
        );
    }
    for (k, v) in &r.paths {
        println!("  {k:<28} {v}");
    }
    println!();
    println!(
        "演示账号（共用密码 {}）：{}",
        r.password,
        r.accounts.join("、")
    );
    let db = match &a.db.database_url {
        Some(u) if u.starts_with("postgres") => format!(" --database-url '{u}'"),
        _ => String::new(),
    };
    println!(
        "启动：peixun serve --demo --data-dir {}{db}   （--demo 显示演示横幅；须用同一数据目录，身份证号码密钥在其中）",
        a.db.data_dir.display()
    );
    println!("结果（JSON）：{}", path.display());
}
