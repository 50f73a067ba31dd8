//! The rules calculator: `peixun rules …`, `peixun calendar …`, `peixun check …`.
//!
//! Runs the same domain code as the pages, with the built-in policy
//! ([`Policy::haizhu_default`]) and calendar ([`Calendar::builtin`]).
//!
//! Exit codes: 0 success; 1 `check` found the value invalid (reason on stderr); 2 bad arguments or
//! a rule that cannot be applied (e.g. a date in a year whose holiday table is not loaded).

use chrono::NaiveDate;
use clap::{ArgGroup, Args, Subcommand};
use peixun_domain::calendar::Calendar;
use peixun_domain::cap::{CapBasis, CapInput, Score, compute_cap};
use peixun_domain::credit_code::CreditCode;
use peixun_domain::ids::PersonId;
use peixun_domain::policy::Policy;
use std::fmt::Display;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CalcCommand {
    /// 规则计算 (rules): `cap`.
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
    },
    /// 按工作日推算 (R-CAL-1): N working days after (N < 0: before) the date, the date not
    /// counted; N = 0 prints the date itself.
    Shift {
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: NaiveDate,
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        working_days: i32,
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
    },
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
        CalcCommand::Calendar { command } => {
            let cal = Calendar::builtin();
            match command {
                CalendarCommand::Deadline { start } => {
                    print_date(cal.filing_deadline(start, &policy))
                }
                CalendarCommand::Shift { date, working_days } => {
                    print_date(cal.shift_working_days(date, working_days))
                }
                CalendarCommand::LastDay { start } => {
                    print_date(cal.last_allowed_day(start, &policy))
                }
                CalendarCommand::TeacherChange { effective } => {
                    print_date(cal.teacher_change_deadline(effective, &policy))
                }
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
