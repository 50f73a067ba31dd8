//! The rules calculator: `peixun rules …`, `peixun calendar …`, `peixun check …`.
//!
//! Runs the same domain code as the pages, with the built-in policy
//! ([`Policy::haizhu_default`]). The calendar commands use the built-in holiday tables
//! ([`Calendar::builtin`]), or the tables loaded in a database when given `--database-url` or
//! `--data-dir` (R-CAL-1); `calendar import FILE` loads a year into a database.
//!
//! Exit codes: 0 success; 1 `check` found the value invalid (reason on stderr); 2 bad arguments or
//! a rule that cannot be applied (e.g. a date in a year whose holiday table is not loaded).

use chrono::NaiveDate;
use clap::{ArgGroup, Args, Subcommand};
use peixun_domain::calendar::Calendar;
use peixun_domain::cap::{CapBasis, CapInput, Score, compute_cap};
use peixun_domain::credit_code::CreditCode;
use peixun_domain::evaluation::{EvaluationInput, SatisfactionInput, evaluate};
use peixun_domain::ids::PersonId;
use peixun_domain::policy::Policy;
use peixun_store::calendar::YearChange;
use rust_decimal::Decimal;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

#[derive(Subcommand)]
pub enum CalcCommand {
    /// 规则计算 (rules): `cap`, `evaluation`.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// 工作日与期限 (working days and deadlines): `deadline`, `shift`, `last-day`, `teacher-change`.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// 校验证件号码与统一社会信用代码 (check an ID number or a credit code).
    Check {
        #[command(subcommand)]
        command: CheckCommand,
    },
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// 签约班次上限 (R-CAP-1…7): prints the decision with its trail as JSON.
    Cap(CapArgs),
    /// 绩效评估 (R-EVA-1): prints the four components, the score and the trail as JSON.
    Evaluation(EvaluationArgs),
}

/// The records of one agreement, as counts (R-EVA-1).
#[derive(Args)]
pub struct EvaluationArgs {
    /// 批复班次数（不含因机构以外原因取消的）
    #[arg(long, value_name = "N")]
    approved: u32,
    /// 按时完成班次数（超期不计）
    #[arg(long, value_name = "N")]
    on_time: u32,
    /// 签约班次上限
    #[arg(long, value_name = "N")]
    cap: u32,
    /// 一般问题数
    #[arg(long, value_name = "N", default_value_t = 0)]
    general_findings: u32,
    /// 严重问题数
    #[arg(long, value_name = "N", default_value_t = 0)]
    serious_findings: u32,
    /// 逾期整改数（整改期限后才闭环）
    #[arg(long, value_name = "N", default_value_t = 0)]
    late_rectifications: u32,
    /// 每个已完成班次的档案完整率（%），可重复
    #[arg(long = "archive", value_name = "PCT", value_parser = parse_decimal)]
    archives: Vec<Decimal>,
    /// 总体评价平均分（1–5）
    #[arg(long, value_name = "X", value_parser = parse_decimal)]
    satisfaction_mean: Decimal,
    /// 回答人数（与 --trainees 一起给出时计算回收率）
    #[arg(long, value_name = "N", requires = "trainees")]
    responses: Option<u32>,
    /// 学员人数
    #[arg(long, value_name = "N", requires = "responses")]
    trainees: Option<u32>,
}

/// Either `--first --requested N` (first agreement) or `--prev-completed C --score S`.
#[derive(Args)]
#[command(group(ArgGroup::new("basis").required(true).args(["first", "prev_completed"])))]
pub struct CapArgs {
    /// 本批次全区计划班次数 P（含上半年结转）
    #[arg(long, value_name = "P")]
    planned: u32,
    /// 前次全区计划班次数 P_prev（无前次批次时省略）
    #[arg(long, value_name = "P_PREV")]
    prev_planned: Option<u32>,
    /// 首次签约 (R-CAP-2): the centre enters the cap with --requested
    #[arg(long, requires = "requested", conflicts_with_all = ["prev_completed", "score"])]
    first: bool,
    /// 首次签约时区培训中心确定的班次数
    #[arg(long, value_name = "N", requires = "first")]
    requested: Option<u32>,
    /// 前次签约按时完成班次数 C（超期不计）
    #[arg(long, value_name = "C", requires = "score")]
    prev_completed: Option<u32>,
    /// 前次综合评估得分 S（0–100，最多一位小数）
    #[arg(long, value_name = "S", value_parser = parse_score, requires = "prev_completed")]
    score: Option<Score>,
    /// 可承担重大工程 (R-CAP-4; ignored for a first agreement)
    #[arg(long)]
    major: bool,
}

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// 开班备案截止日 (R-FIL-3): 10 working days before the start date.
    Deadline {
        /// 开班日期 YYYY-MM-DD
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        start: NaiveDate,
        #[command(flatten)]
        db: CalendarDb,
    },
    /// 按工作日推算 (R-CAL-1): N working days after (N < 0: before) the date, the date not
    /// counted; N = 0 prints the date itself.
    Shift {
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: NaiveDate,
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        working_days: i32,
        #[command(flatten)]
        db: CalendarDb,
    },
    /// 最迟完成日 (R-FIL-4): start + 30 calendar days.
    LastDay {
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        start: NaiveDate,
    },
    /// 师资变更最迟报备日 (R-RUN-1): 1 working day before the change takes effect.
    TeacherChange {
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        effective: NaiveDate,
        #[command(flatten)]
        db: CalendarDb,
    },
    /// 载入或替换节假日安排 (R-CAL-1)：FILE 为 holidays.toml 格式；逐行检查，全部通过才保存。
    /// 替换已被期限计算使用的年份须 --reason。写入审计日志。
    Import {
        /// holidays.toml 格式的文件
        file: PathBuf,
        /// 替换已被使用的年份时的原因
        #[arg(long)]
        reason: Option<String>,
        /// 只检查并显示结果，不保存
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: CalendarDb,
    },
}

/// Where to read loaded holiday tables from. Neither flag: the built-in tables (no database).
/// `PEIXUN_DATABASE_URL` is not read here: a calculator answer never depends on the environment.
#[derive(Args, Clone, Default)]
pub struct CalendarDb {
    /// 数据库地址（sqlite:… 或 postgres://…）：使用其中已载入的节假日安排
    #[arg(long)]
    database_url: Option<String>,
    /// 数据目录（其中的 peixun.db）：使用其中已载入的节假日安排
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl CalendarDb {
    fn url(&self) -> Option<String> {
        match (&self.database_url, &self.data_dir) {
            (Some(u), _) => Some(u.trim().to_string()),
            (None, Some(dir)) => {
                let file = dir.join("peixun.db");
                let file = std::path::absolute(&file).unwrap_or(file);
                Some(format!("sqlite://{}?mode=rwc", file.display()))
            }
            (None, None) => None,
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("无法启动运行时 / cannot start the runtime: {e}"))
}

/// The built-in tables and policy, or the tables loaded in the database named by `db` and the
/// policy version in force there today (R-CAL-1, R-POL-1).
fn calendar_from(db: &CalendarDb) -> Result<(Calendar, Policy), String> {
    let Some(url) = db.url() else {
        return Ok((Calendar::builtin(), Policy::haizhu_default()));
    };
    if let (None, Some(dir)) = (&db.database_url, &db.data_dir)
        && !dir.join("peixun.db").exists()
    {
        return Err(format!(
            "数据目录 {} 中没有数据库 / no database in {}",
            dir.display(),
            dir.display()
        ));
    }
    runtime()?.block_on(async {
        let store = peixun_store::Store::connect(&url)
            .await
            .map_err(|e| format!("无法打开数据库 / cannot open the database: {e}"))?;
        let cal = peixun_store::calendar::load(store.db()).await.map_err(|e| {
            format!(
                "无法读取节假日安排（数据库是否已执行 peixun migrate？）/ cannot read the holiday tables: {e}"
            )
        })?;
        let today = chrono::Utc::now()
            .with_timezone(&peixun_domain::rules::shanghai())
            .date_naive();
        let policy = peixun_store::policies::in_force(store.db(), today)
            .await
            .map_err(|e| format!("无法读取政策参数 / cannot read the policy: {e}"))?;
        let _ = store.close().await;
        Ok((cal, policy))
    })
}

fn run_import(file: &Path, reason: Option<&str>, dry_run: bool, db: &CalendarDb) -> ExitCode {
    let text = match std::fs::read(file) {
        Ok(b) => match String::from_utf8(b) {
            Ok(t) => t,
            Err(_) => {
                return fail(format!(
                    "{} 不是 UTF-8 文本 / is not UTF-8 text",
                    file.display()
                ));
            }
        },
        Err(e) => return fail(format!("无法读取 / cannot read {}: {e}", file.display())),
    };
    let url = db
        .url()
        .unwrap_or_else(|| peixun_store::resolve_database_url(None, Path::new("./data")));
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    rt.block_on(async {
        let store = match peixun_store::Store::connect(&url).await {
            Ok(s) => s,
            Err(e) => return fail(format!("无法打开数据库 / cannot open the database: {e}")),
        };
        if let Err(e) = store.migrate().await {
            return fail(format!("数据库迁移失败 / migration failed: {e}"));
        }
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let actor = peixun_store::Actor::system(&format!("cli:{user}"));
        let preview = match peixun_store::calendar::preview(&store, &actor, &text).await {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        for p in &preview.problems {
            match p.line {
                Some(l) => eprintln!("{}:{l}: {}", file.display(), p.error),
                None => eprintln!("{}: {}", file.display(), p.error),
            }
        }
        if !preview.is_ok() {
            eprintln!(
                "未保存：共 {} 处问题 / nothing saved: {} problem(s)",
                preview.problems.len(),
                preview.problems.len()
            );
            return ExitCode::from(1);
        }
        for y in &preview.years {
            let what = match y.change {
                YearChange::New => "新载入 new",
                YearChange::Unchanged => "未改变 unchanged",
                YearChange::Replace => "替换 replaces the loaded table",
            };
            println!("{}年 {}：{}", y.table.year, what, y.table.source);
            for m in &y.moved {
                println!(
                    "  期限改变 moves: {} #{} {} {}：{} → {}",
                    m.kind,
                    m.filing_id,
                    m.label,
                    m.date,
                    m.old_deadline.map_or("—".into(), |d| d.to_string()),
                    m.new_deadline.map_or("—".into(), |d| d.to_string())
                );
            }
        }
        if dry_run {
            println!("仅检查，未保存 / dry run: nothing saved");
            return ExitCode::SUCCESS;
        }
        match peixun_store::calendar::import(&store, &actor, &text, reason, chrono::Utc::now())
            .await
        {
            Ok(out) => {
                println!(
                    "已保存 saved: {:?}；未改变 unchanged: {:?}",
                    out.loaded, out.unchanged
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("错误 error: {e}");
                ExitCode::from(1)
            }
        }
    })
}

#[derive(Subcommand)]
pub enum CheckCommand {
    /// 证件号码 (居民身份证、港澳台居民居住证、外国人永久居留身份证、往来内地通行证、台胞证)
    Id {
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// 统一社会信用代码 (GB 32100, checksum included)
    CreditCode {
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        format!("日期“{s}”无效，须为 YYYY-MM-DD / invalid date \"{s}\", expected YYYY-MM-DD")
    })
}

fn parse_decimal(s: &str) -> Result<Decimal, String> {
    Decimal::from_str(s.trim()).map_err(|_| format!("“{s}”不是数字 / \"{s}\" is not a number"))
}

fn parse_score(s: &str) -> Result<Score, String> {
    s.parse::<Score>().map_err(|e| e.to_string())
}

/// Prints a rule error and returns exit code 2.
fn fail(e: impl Display) -> ExitCode {
    eprintln!("错误 error: {e}");
    ExitCode::from(2)
}

fn print_date(r: Result<NaiveDate, impl Display>) -> ExitCode {
    match r {
        Ok(d) => {
            println!("{d}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn run(cmd: CalcCommand) -> ExitCode {
    let policy = Policy::haizhu_default();
    match cmd {
        CalcCommand::Rules {
            command: RulesCommand::Cap(args),
        } => run_cap(args, &policy),
        CalcCommand::Rules {
            command: RulesCommand::Evaluation(args),
        } => run_evaluation(args, &policy),
        CalcCommand::Calendar { command } => {
            let with =
                |db: &CalendarDb, f: &dyn Fn(&Calendar, &Policy) -> ExitCode| match calendar_from(
                    db,
                ) {
                    Ok((cal, policy)) => f(&cal, &policy),
                    Err(e) => fail(e),
                };
            match command {
                CalendarCommand::Deadline { start, db } => with(&db, &|cal, policy| {
                    print_date(cal.filing_deadline(start, policy))
                }),
                CalendarCommand::Shift {
                    date,
                    working_days,
                    db,
                } => with(&db, &|cal, _| {
                    print_date(cal.shift_working_days(date, working_days))
                }),
                CalendarCommand::LastDay { start } => {
                    print_date(peixun_domain::calendar::last_allowed_day(start, &policy))
                }
                CalendarCommand::TeacherChange { effective, db } => with(&db, &|cal, policy| {
                    print_date(cal.teacher_change_deadline(effective, policy))
                }),
                CalendarCommand::Import {
                    file,
                    reason,
                    dry_run,
                    db,
                } => run_import(&file, reason.as_deref(), dry_run, &db),
            }
        }
        CalcCommand::Check { command } => match command {
            CheckCommand::Id { value } => match PersonId::parse(&value) {
                Ok(id) => {
                    let mut line = format!("有效 valid: {} {}", id.kind().label_zh(), id.masked());
                    if let (Some(birth), Some(sex)) = (id.birth_date(), id.sex()) {
                        line.push_str(&format!("（出生日期 {birth}，{}）", sex.label_zh()));
                    }
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("无效 invalid: {e}");
                    ExitCode::from(1)
                }
            },
            CheckCommand::CreditCode { value } => match CreditCode::parse(&value) {
                Ok(code) => {
                    println!(
                        "有效 valid: {code}（{}，{}）",
                        code.authority_label(),
                        code.category_label()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("无效 invalid: {e}");
                    ExitCode::from(1)
                }
            },
        },
    }
}

fn run_cap(args: CapArgs, policy: &Policy) -> ExitCode {
    let basis = match (args.first, args.requested, args.prev_completed, args.score) {
        (true, Some(requested), None, None) => CapBasis::First { requested },
        (false, None, Some(prev_completed), Some(score)) => CapBasis::Later {
            prev_completed,
            score,
        },
        // clap's groups and `requires` rule the other combinations out.
        _ => {
            return fail(
                "须二选一：--first --requested N，或 --prev-completed C --score S / \
                 give either --first --requested N or --prev-completed C --score S",
            );
        }
    };
    let input = CapInput {
        planned: args.planned,
        prev_planned: args.prev_planned,
        basis,
        major: args.major,
    };
    match compute_cap(&input, policy) {
        Ok(decision) => match serde_json::to_string_pretty(&decision) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Err(e) => fail(e),
    }
}

fn run_evaluation(args: EvaluationArgs, policy: &Policy) -> ExitCode {
    let input = EvaluationInput {
        cap: args.cap,
        approved: args.approved,
        on_time: args.on_time,
        inspections: None,
        general_findings: args.general_findings,
        serious_findings: args.serious_findings,
        late_rectifications: args.late_rectifications,
        archives: args.archives,
        satisfaction: SatisfactionInput::Mean {
            mean: args.satisfaction_mean,
            responses: args.responses,
            trainees: args.trainees,
        },
    };
    match evaluate(&input, &[], policy) {
        Ok(result) => match serde_json::to_string_pretty(&result) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Err(e) => fail(e),
    }
}
