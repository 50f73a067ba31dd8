//! The filing package (开班备案, R-FIL-1…5, R-FIL-7, R-FIL-8), the teacher change (R-RUN-1) and
//! the online-training request's evidence (R-FIL-8), checked before anything reaches a person.
//!
//! [`check_filing`] returns **every** problem at once (R-VAL-1), each with a stable code, the
//! field it concerns and a Chinese message; date problems name the date it should have been.
//! Warnings (e.g. a session on a non-working day) come in the same list with
//! [`Severity::Warning`]; only [`FilingProblem::is_blocking`] ones stop a submission.

use crate::calendar::{Calendar, CalendarError, last_allowed_day};
use crate::policy::Policy;
use crate::rules::{RulesError, check_class_size, check_teacher_change_notice};
use crate::schedule::{ScheduleContext, Session, check_schedule};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Whether a problem stops the submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a filing, a schedule or a teacher change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilingProblem {
    /// Stable code for the API, e.g. `FIL_LEAD_TIME`.
    pub code: &'static str,
    /// The field concerned, e.g. `start_date`, `documents.training_plan`, `sessions[2].teacher`.
    pub field: String,
    /// What is wrong and what it should be, in Chinese.
    pub message: String,
    pub severity: Severity,
}

impl FilingProblem {
    pub fn error(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        FilingProblem {
            code,
            field: field.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }
    pub fn warning(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FilingProblem {
            code,
            field: field.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True when none of `problems` blocks (feeds [`crate::workflow::class::ClassContext::package_ok`]).
pub fn package_ok(problems: &[FilingProblem]) -> bool {
    !problems.iter().any(FilingProblem::is_blocking)
}

/// The six documents of R-FIL-1 (按系统提示上传…材料).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 培训简章
    Brochure,
    /// 培训计划
    TrainingPlan,
    /// 培训大纲
    Syllabus,
    /// 培训教材
    Textbook,
    /// 参训人员花名册
    RosterDocument,
    /// 培训补贴标准
    SubsidyStandard,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::Brochure,
        DocumentKind::TrainingPlan,
        DocumentKind::Syllabus,
        DocumentKind::Textbook,
        DocumentKind::RosterDocument,
        DocumentKind::SubsidyStandard,
    ];
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Brochure => "brochure",
            DocumentKind::TrainingPlan => "training_plan",
            DocumentKind::Syllabus => "syllabus",
            DocumentKind::Textbook => "textbook",
            DocumentKind::RosterDocument => "roster_document",
            DocumentKind::SubsidyStandard => "subsidy_standard",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            DocumentKind::Brochure => "培训简章",
            DocumentKind::TrainingPlan => "培训计划",
            DocumentKind::Syllabus => "培训大纲",
            DocumentKind::Textbook => "培训教材",
            DocumentKind::RosterDocument => "参训人员花名册",
            DocumentKind::SubsidyStandard => "培训补贴标准",
        }
    }
}

/// An (occupation, level) pair: an institution's approved scope (培训资质) or a teacher's
/// qualification. Compared after trimming; `level` as written in the directory (e.g. "五级/初级工",
/// "专项职业能力").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Qualification {
    pub occupation: String,
    pub level: String,
}

impl Qualification {
    pub fn new(occupation: &str, level: &str) -> Qualification {
        Qualification {
            occupation: occupation.trim().to_string(),
            level: level.trim().to_string(),
        }
    }
    fn matches(&self, occupation: &str, level: &str) -> bool {
        self.occupation.trim() == occupation.trim() && self.level.trim() == level.trim()
    }
}

impl std::fmt::Display for Qualification {
    /// "育婴员（初级）".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}（{}）", self.occupation.trim(), self.level.trim())
    }
}

/// R-FIL-1, R-RUN-1: the one test of a teacher's qualification for a class, used when a class
/// is filed ([`check_filing`]) and when a teacher is changed ([`check_teacher_change`]): the
/// teacher holds a qualification of the class's occupation **and** level, as the institution was
/// reviewed with ("其资质要求须与机构评审时一致"). Returns the requirements the teacher lacks (empty
/// when qualified), in the order given.
pub fn missing_teacher_qualifications<'a>(
    teacher: &[Qualification],
    required: &'a [Qualification],
) -> Vec<&'a Qualification> {
    required
        .iter()
        .filter(|r| !teacher.iter().any(|q| q.matches(&r.occupation, &r.level)))
        .collect()
}

/// Where the class takes place (R-FIL-7, R-FIL-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// The institution's registered address (注册地址).
    RegisteredAddress,
    /// An address the centre approved for the institution (an address request), by id.
    ApprovedAddress { address_id: i64 },
    /// Online (needs an approved online-training request).
    Online,
}

/// 培训方式. Offline is the default (培训优先采用线下培训方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Offline,
    Online,
}

/// A filing as the institution has filled it in so far (R-FIL-1). Uploads are represented by
/// whether they are present; their content checks (type sniffing, size, S16) happen at upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingDraft {
    /// 职业（工种）/项目
    pub occupation: String,
    /// 技能等级
    pub level: String,
    /// 培训课时 (declared total)
    pub hours: Decimal,
    pub start: NaiveDate,
    /// 计划结束日期（含考试）
    pub planned_end: NaiveDate,
    pub location: Location,
    pub mode: Mode,
    /// The teachers (ids from the institution's directory).
    pub teachers: Vec<i64>,
    /// 课程表
    pub sessions: Vec<Session>,
    /// 考试内容
    pub exam_content: bool,
    /// 题库
    pub question_bank: bool,
    /// Documents uploaded, by kind.
    pub documents: BTreeSet<DocumentKind>,
    /// Trainees on the validated roster (0 if none imported yet).
    pub trainees: usize,
}

/// What [`check_filing`] needs to know besides the draft.
#[derive(Debug, Clone)]
pub struct FilingContext<'a> {
    /// The institution's approved scope (培训资质).
    pub scope: &'a [Qualification],
    /// The institution's registered address, for messages.
    pub registered_address: &'a str,
    /// Ids of the addresses the centre approved for the institution (R-FIL-7).
    pub approved_address_ids: &'a [i64],
    /// The institution has an approved online-training request for this class (R-FIL-8).
    pub online_request_approved: bool,
    /// Each directory teacher's qualifications, by teacher id.
    pub teacher_qualifications: &'a BTreeMap<i64, Vec<Qualification>>,
    pub calendar: &'a Calendar,
    pub policy: &'a Policy,
    /// The submission date (today, Asia/Shanghai).
    pub submitted_on: NaiveDate,
}

/// Working days in `(after, upto]`.
fn working_days_between(
    cal: &Calendar,
    after: NaiveDate,
    upto: NaiveDate,
) -> Result<u32, CalendarError> {
    let mut n = 0;
    let mut d = after;
    while d < upto {
        d = d.succ_opt().ok_or(CalendarError::OutOfRange)?;
        if cal.is_working_day(d)? {
            n += 1;
        }
    }
    Ok(n)
}

fn calendar_problem(field: &str, e: &CalendarError) -> FilingProblem {
    let code = match e {
        CalendarError::YearNotLoaded(_) => "FIL_CALENDAR_YEAR_NOT_LOADED",
        _ => "FIL_CALENDAR",
    };
    FilingProblem::error(code, field, e.to_string())
}

/// R-FIL-3: the lead-time problem, if any, naming the deadline and how late the submission is.
pub fn lead_time_problem(
    calendar: &Calendar,
    start: NaiveDate,
    submitted: NaiveDate,
    policy: &Policy,
) -> Option<FilingProblem> {
    let deadline = match calendar.filing_deadline(start, policy) {
        Ok(d) => d,
        Err(e) => return Some(calendar_problem("start_date", &e)),
    };
    if submitted <= deadline {
        return None;
    }
    let late = match working_days_between(calendar, deadline, submitted) {
        Ok(0) => format!("现已逾期（提交日为{submitted}）"),
        Ok(n) => format!("现已逾期{n}个工作日"),
        Err(e) => return Some(calendar_problem("start_date", &e)),
    };
    Some(FilingProblem::error(
        "FIL_LEAD_TIME",
        "start_date",
        format!(
            "开班日期为{start}，须于{deadline}（含）前提交备案（开班前{}个工作日），{late}",
            policy.filing_lead_working_days
        ),
    ))
}

/// R-FIL-4: the 30-day-window problem, if any, naming the last allowed day.
pub fn window_problem(
    start: NaiveDate,
    planned_end: NaiveDate,
    policy: &Policy,
) -> Option<FilingProblem> {
    if planned_end < start {
        return Some(FilingProblem::error(
            "FIL_END_BEFORE_START",
            "planned_end",
            format!("计划结束日期{planned_end}早于开班日期{start}"),
        ));
    }
    let last = match last_allowed_day(start, policy) {
        Ok(d) => d,
        Err(e) => return Some(calendar_problem("planned_end", &e)),
    };
    if planned_end > last {
        return Some(FilingProblem::error(
            "FIL_WINDOW",
            "planned_end",
            format!(
                "开班日期为{start}，培训（含考试）须于{}天内完成，计划结束日期最迟为{last}，\
                 现为{planned_end}，超出{}天",
                policy.class_window_days,
                (planned_end - last).num_days()
            ),
        ));
    }
    None
}

/// R-FIL-1…5, R-FIL-7, R-FIL-8: every problem of a filing package, in a stable order (content,
/// dates, location, teachers, schedule, documents).
pub fn check_filing(draft: &FilingDraft, ctx: &FilingContext<'_>) -> Vec<FilingProblem> {
    let mut out = Vec::new();
    let p = ctx.policy;

    // R-FIL-1: content and scope.
    if draft.occupation.trim().is_empty() {
        out.push(FilingProblem::error(
            "FIL_OCCUPATION_MISSING",
            "occupation",
            "请填写培训职业（工种）/项目",
        ));
    }
    if draft.level.trim().is_empty() {
        out.push(FilingProblem::error(
            "FIL_LEVEL_MISSING",
            "level",
            "请填写技能等级",
        ));
    }
    if !draft.occupation.trim().is_empty()
        && !draft.level.trim().is_empty()
        && !ctx
            .scope
            .iter()
            .any(|q| q.matches(&draft.occupation, &draft.level))
    {
        out.push(FilingProblem::error(
            "FIL_OUT_OF_SCOPE",
            "occupation",
            format!(
                "“{}（{}）”不在本机构经审批的培训资质范围内",
                draft.occupation.trim(),
                draft.level.trim()
            ),
        ));
    }
    if draft.hours <= Decimal::ZERO {
        out.push(FilingProblem::error(
            "FIL_HOURS",
            "hours",
            format!("培训课时须大于0，现为{}", draft.hours.normalize()),
        ));
    }

    // R-FIL-2: class size.
    if let Err(RulesError::ClassTooSmall { count, min }) = check_class_size(draft.trainees, p) {
        out.push(FilingProblem::error(
            "FIL_CLASS_SIZE",
            "roster",
            format!("每班培训人数不低于{min}人，花名册现有{count}人"),
        ));
    }

    // R-FIL-3, R-FIL-4: dates.
    out.extend(lead_time_problem(
        ctx.calendar,
        draft.start,
        ctx.submitted_on,
        p,
    ));
    out.extend(window_problem(draft.start, draft.planned_end, p));

    // R-FIL-7, R-FIL-8: location and mode.
    match (&draft.mode, &draft.location) {
        (Mode::Online, Location::Online) => {
            if !ctx.online_request_approved {
                out.push(FilingProblem::error(
                    "FIL_ONLINE_NOT_APPROVED",
                    "mode",
                    "线上培训须先提交线上培训申请（第三方委托函、原因及平台信息）并经区培训中心审核通过",
                ));
            }
        }
        (Mode::Online, _) => out.push(FilingProblem::error(
            "FIL_MODE_LOCATION_MISMATCH",
            "location",
            "培训方式为线上，培训地点应选择“线上”",
        )),
        (Mode::Offline, Location::Online) => out.push(FilingProblem::error(
            "FIL_MODE_LOCATION_MISMATCH",
            "location",
            "培训方式为线下，请选择本机构注册地址或经区培训中心同意的培训地址",
        )),
        (Mode::Offline, Location::RegisteredAddress) => {
            if ctx.registered_address.trim().is_empty() {
                out.push(FilingProblem::error(
                    "FIL_LOCATION_NOT_APPROVED",
                    "location",
                    "本机构未登记注册地址，请选择经区培训中心同意的培训地址",
                ));
            }
        }
        (Mode::Offline, Location::ApprovedAddress { address_id }) => {
            if !ctx.approved_address_ids.contains(address_id) {
                out.push(FilingProblem::error(
                    "FIL_LOCATION_NOT_APPROVED",
                    "location",
                    format!(
                        "线下培训须在本机构注册地址（{}）或经区培训中心同意的培训地址开展，所选地址未经同意",
                        ctx.registered_address.trim()
                    ),
                ));
            }
        }
    }

    // Teachers: from the directory, qualified for this occupation (R-FIL-1, R-RUN-1).
    if draft.teachers.is_empty() {
        out.push(FilingProblem::error(
            "FIL_TEACHERS_MISSING",
            "teachers",
            "请选择授课师资",
        ));
    }
    for (i, t) in draft.teachers.iter().enumerate() {
        let field = format!("teachers[{i}]");
        match ctx.teacher_qualifications.get(t) {
            None => out.push(FilingProblem::error(
                "FIL_TEACHER_UNKNOWN",
                field,
                "该教师不在本机构师资库中",
            )),
            Some(quals) => {
                let required = [Qualification::new(&draft.occupation, &draft.level)];
                if let [lacking] = missing_teacher_qualifications(quals, &required)[..] {
                    out.push(FilingProblem::error(
                        "FIL_TEACHER_NOT_QUALIFIED",
                        field,
                        format!("该教师不具备“{lacking}”的授课资质（职业和等级须一致）"),
                    ));
                }
            }
        }
    }

    // Schedule (课程表).
    if draft.sessions.is_empty() {
        out.push(FilingProblem::error(
            "FIL_SCHEDULE_MISSING",
            "sessions",
            "请填写课程表",
        ));
    } else {
        out.extend(check_schedule(
            &draft.sessions,
            &ScheduleContext {
                declared_hours: draft.hours,
                start: draft.start,
                planned_end: draft.planned_end,
                calendar: ctx.calendar,
            },
        ));
        for (i, s) in draft.sessions.iter().enumerate() {
            if !draft.teachers.contains(&s.teacher_id) {
                out.push(FilingProblem::error(
                    "SCH_TEACHER_NOT_IN_FILING",
                    format!("sessions[{i}].teacher"),
                    format!("{}的课程的授课教师不在本班授课师资名单中", s.date),
                ));
            }
        }
    }

    // Exam content with its question bank (考试内容含题库).
    if !draft.exam_content {
        out.push(FilingProblem::error(
            "FIL_EXAM_CONTENT_MISSING",
            "exam_content",
            "请上传考试内容",
        ));
    }
    if !draft.question_bank {
        out.push(FilingProblem::error(
            "FIL_QUESTION_BANK_MISSING",
            "question_bank",
            "请上传考试题库",
        ));
    }

    // The six documents.
    for kind in DocumentKind::ALL {
        if !draft.documents.contains(&kind) {
            out.push(FilingProblem::error(
                "FIL_DOCUMENT_MISSING",
                format!("documents.{}", kind.code()),
                format!("请上传{}", kind.label_zh()),
            ));
        }
    }
    one_problem_per_missing_year(out, draft, ctx)
}

/// R-CAL-1: a filing whose dates fall in a year without a holiday table gets one problem naming
/// the year (or years) and who loads it, instead of one per date (the deadline, the end, every
/// session).
fn one_problem_per_missing_year(
    problems: Vec<FilingProblem>,
    draft: &FilingDraft,
    ctx: &FilingContext<'_>,
) -> Vec<FilingProblem> {
    let is_missing_year = |p: &FilingProblem| {
        matches!(
            p.code,
            "FIL_CALENDAR_YEAR_NOT_LOADED" | "SCH_CALENDAR_YEAR_NOT_LOADED"
        )
    };
    if !problems.iter().any(is_missing_year) {
        return problems;
    }
    let mut years = BTreeSet::new();
    if let Err(CalendarError::YearNotLoaded(y)) =
        ctx.calendar.filing_deadline(draft.start, ctx.policy)
    {
        years.insert(y);
    }
    for d in [draft.start, draft.planned_end, ctx.submitted_on]
        .into_iter()
        .chain(draft.sessions.iter().map(|s| s.date))
    {
        if !ctx.calendar.is_year_loaded(d.year()) {
            years.insert(d.year());
        }
    }
    if years.is_empty() {
        return problems;
    }
    let mut out: Vec<FilingProblem> = problems
        .into_iter()
        .filter(|p| !is_missing_year(p))
        .collect();
    let names: Vec<String> = years.iter().map(|y| y.to_string()).collect();
    out.insert(
        0,
        FilingProblem::error(
            "FIL_CALENDAR_YEAR_NOT_LOADED",
            "start_date",
            format!(
                "{}年的节假日安排尚未载入，本班次的备案截止日、完成期限和课程表无法按工作日核对。\
                 请联系系统管理员在“节假日安排”页面载入{}年的安排（国务院办公厅通知）后再提交",
                names.join("、"),
                names.join("、")
            ),
        ),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Teacher change (R-RUN-1)
// ---------------------------------------------------------------------------------------------

/// A teacher change as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherChange<'a> {
    /// The day the change is reported (Asia/Shanghai).
    pub reported_on: NaiveDate,
    /// The day the new teacher starts teaching.
    pub effective_on: NaiveDate,
    /// The qualifications the institution was reviewed with for this class's occupation/level
    /// (the outgoing teacher's, as recorded at review).
    pub reviewed_with: &'a [Qualification],
    /// The new teacher's qualifications.
    pub new_teacher: &'a [Qualification],
}

/// R-RUN-1: a teacher change is reported at least 1 working day ahead
/// ([`check_teacher_change_notice`]) and the new teacher holds every qualification the
/// institution was reviewed with ("资质要求须与机构评审时一致"). Refused with every reason.
pub fn check_teacher_change(
    change: &TeacherChange<'_>,
    calendar: &Calendar,
    policy: &Policy,
) -> Result<(), Vec<FilingProblem>> {
    let mut out = Vec::new();
    match check_teacher_change_notice(calendar, change.reported_on, change.effective_on, policy) {
        Ok(()) => {}
        Err(RulesError::TeacherChangeTooLate {
            deadline,
            reported,
            lead,
        }) => out.push(FilingProblem::error(
            "RUN_TEACHER_CHANGE_LATE",
            "reported_on",
            format!(
                "授课师资调整于{}生效，须至少提前{lead}个工作日报备，即于{deadline}（含）前报备，\
                 报备日为{reported}",
                change.effective_on
            ),
        )),
        Err(RulesError::Calendar(e)) => out.push(calendar_problem("effective_on", &e)),
        Err(e) => out.push(FilingProblem::error(
            e.code(),
            "effective_on",
            e.to_string(),
        )),
    }
    let missing: Vec<String> =
        missing_teacher_qualifications(change.new_teacher, change.reviewed_with)
            .iter()
            .map(ToString::to_string)
            .collect();
    if !missing.is_empty() {
        out.push(FilingProblem::error(
            "RUN_TEACHER_NOT_QUALIFIED",
            "new_teacher",
            format!(
                "新授课教师的资质须与机构评审时一致，缺少：{}",
                missing.join("、")
            ),
        ));
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

// ---------------------------------------------------------------------------------------------
// Online-training request (R-FIL-8)
// ---------------------------------------------------------------------------------------------

/// Why online training is needed (确因疫情防控，或学员生源特殊（如监狱）等情况).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OnlineReason {
    /// 疫情防控
    EpidemicControl,
    /// 学员生源特殊（如监狱）
    SpecialTrainees { description: String },
    /// 其他
    Other { description: String },
}

/// An online-training request's content (R-FIL-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineRequest {
    pub reason: OnlineReason,
    /// 第三方委托函 uploaded.
    pub commission_letter: bool,
    /// 线上培训平台名称.
    pub platform_name: String,
    /// 实名制登录 evidence.
    pub real_name_login: bool,
    /// 学习过程记录 evidence.
    pub learning_records: bool,
    /// 考试功能 evidence.
    pub exams: bool,
    /// 接入广州市职业技能培训在线学习监管服务平台 evidence.
    pub city_supervision_link: bool,
}

/// R-FIL-8: what an online-training request still lacks (empty: may be approved).
pub fn check_online_request(r: &OnlineRequest) -> Vec<FilingProblem> {
    let mut out = Vec::new();
    match &r.reason {
        OnlineReason::SpecialTrainees { description } | OnlineReason::Other { description }
            if description.trim().is_empty() =>
        {
            out.push(FilingProblem::error(
                "ONL_REASON_MISSING",
                "reason",
                "请说明需要线上培训的原因",
            ))
        }
        _ => {}
    }
    let checks = [
        (
            r.commission_letter,
            "commission_letter",
            "请上传第三方委托函",
        ),
        (
            !r.platform_name.trim().is_empty(),
            "platform_name",
            "请填写线上培训平台名称",
        ),
        (
            r.real_name_login,
            "real_name_login",
            "线上培训平台应具备实名制登录功能，请提供证明材料",
        ),
        (
            r.learning_records,
            "learning_records",
            "线上培训平台应具备学习过程记录功能，请提供证明材料",
        ),
        (
            r.exams,
            "exams",
            "线上培训平台应具备考试功能，请提供证明材料",
        ),
        (
            r.city_supervision_link,
            "city_supervision_link",
            "线上培训平台应能接入广州市职业技能培训在线学习监管服务平台，请提供证明材料",
        ),
    ];
    for (ok, field, msg) in checks {
        if !ok {
            out.push(FilingProblem::error("ONL_EVIDENCE_MISSING", field, msg));
        }
    }
    out
}
