//! The OpenAPI document at `GET /api/openapi.json` (snapshot-tested).

use crate::api_types::*;
use crate::error::ErrorBody;
use crate::routes::jobs_admin::api as jobs_admin_api;
use crate::routes::{
    api_admin, api_auth, api_filing_package, api_institutions, api_rounds, api_running, archive,
    calendar, certificates, credentials, evaluation_reports, evaluations, ops, policies, surveys,
    totp, trainees, violations,
};
use peixun_domain::role::Role;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "peixun API",
        description = "海珠区职业技能培训合格证书培训管理系统 API。错误一律返回 {code, message, field?}。",
        version = "1"
    ),
    paths(
        ops::healthz,
        api_auth::login,
        api_auth::logout,
        api_auth::me,
        api_auth::change_password,
        totp::api::verify,
        totp::api::status,
        totp::api::enrol,
        totp::api::confirm,
        totp::api::disable,
        api_institutions::list,
        api_institutions::get_one,
        api_institutions::create,
        api_institutions::update,
        api_institutions::list_teachers,
        api_institutions::create_teacher,
        api_institutions::get_teacher,
        api_institutions::update_teacher,
        api_institutions::reveal_teacher_id,
        trainees::api::reveal_trainee_id,
        api_admin::list_users,
        api_admin::create_user,
        api_admin::set_active,
        api_admin::reset_password,
        credentials::api::list,
        credentials::api::get,
        credentials::api::confirm,
        credentials::api::cancel,
        api_admin::search_audit,
        calendar::api::list_years,
        certificates::api::get_results,
        certificates::api::save_results,
        certificates::api::import_results,
        certificates::api::confirm_results,
        certificates::api::list_certificates,
        certificates::register::api_list,
        certificates::api::revoke,
        certificates::api::verify,
        surveys::api::class_survey,
        surveys::api::set_closing,
        surveys::api::round_survey,
        surveys::api::get_questionnaire,
        surveys::api::put_questionnaire,
        surveys::api::public_survey,
        surveys::api::respond,
        violations::api::list,
        violations::api::record,
        violations::api::get,
        violations::api::preview,
        violations::api::confirm,
        violations::api::dismiss,
        evaluation_reports::api_docx,
        evaluation_reports::api_xlsx,
        calendar::api::get_year,
        calendar::api::preview,
        calendar::api::import,
        archive::api::get_archive,
        archive::api::upload_document,
        archive::api::import_zip,
        archive::api::download,
        archive::api::mark_archived,
        archive::api::download_document,
        api_rounds::list_plans,
        api_rounds::create_plan,
        api_rounds::get_plan,
        api_rounds::update_plan,
        api_rounds::submit_plan,
        api_rounds::decide_plan,
        api_rounds::list_rounds,
        api_rounds::create_round,
        api_rounds::get_round,
        api_rounds::update_round,
        api_rounds::publish_round,
        api_rounds::close_round,
        api_rounds::round_history,
        api_rounds::list_applications,
        api_rounds::list_agreements,
        api_rounds::list_filings,
        api_rounds::round_bulletin,
        api_rounds::bulletin_index,
        api_rounds::apply,
        api_rounds::get_application,
        api_rounds::cap_preview,
        api_rounds::sign,
        api_rounds::get_agreement,
        api_rounds::override_cap,
        api_rounds::terminate,
        api_rounds::list_performance,
        api_rounds::record_performance,
        api_rounds::get_filing,
        api_rounds::withdraw_filing,
        api_rounds::resubmit_filing,
        api_rounds::return_filing,
        api_rounds::reject_filing,
        api_rounds::approve_filing,
        api_rounds::calc_cap,
        api_rounds::list_inbox,
        api_running::list_classes,
        api_running::get_class,
        api_running::start_training,
        api_running::complete_training,
        api_running::complete_exam,
        api_running::report_teacher_change,
        api_running::record_attendance,
        api_running::list_attendance,
        api_running::list_teacher_changes,
        api_running::acknowledge_teacher_change,
        api_running::list_reports,
        api_running::submit_report,
        api_running::report_status,
        api_running::get_report,
        api_running::list_inspections,
        api_running::record_inspection,
        api_running::get_inspection,
        api_running::rectify,
        api_running::close_inspection,
        api_running::list_sanctions,
        api_running::get_sanction,
        api_running::confirm_sanction,
        api_running::dismiss_sanction,
        api_running::decide_flag,
        api_running::list_overdue,
        api_running::sweep_now,
        api_running::work_list,
        api_filing_package::list_packages,
        api_filing_package::create_package,
        api_filing_package::get_package,
        api_filing_package::update_package,
        api_filing_package::package_problems,
        api_filing_package::submit_package,
        api_filing_package::upload_file,
        api_filing_package::download_file,
        api_filing_package::import_roster,
        api_filing_package::list_roster,
        api_filing_package::roster_template_xlsx,
        api_filing_package::roster_template_csv,
        api_filing_package::review_queue,
        api_filing_package::approve_roster,
        api_filing_package::reject_roster,
        api_filing_package::list_requests,
        api_filing_package::submit_request,
        api_filing_package::get_request,
        api_filing_package::upload_evidence,
        api_filing_package::request_notes,
        api_filing_package::download_evidence,
        api_filing_package::approve_request,
        api_filing_package::refuse_request,
        policies::api::list,
        policies::api::propose,
        policies::api::get_one,
        policies::api::confirm,
        policies::api::reject,
        policies::api::withdraw,
        policies::api::compare,
        jobs_admin_api::list_jobs,
        jobs_admin_api::release_run,
        jobs_admin_api::rerun_period,
        evaluations::api::list,
        evaluations::api::get,
        evaluations::api::open,
        evaluations::api::adjust,
        evaluations::api::recompute,
        evaluations::api::confirm,
    ),
    components(schemas(ErrorBody, LoginRequest, LoginResponse, TokenResponse, MeResponse)),
    modifiers(&BearerAuth, &CommonErrors),
    tags(
        (name = "auth", description = "登录与会话"),
        (name = "institutions", description = "培训机构目录"),
        (name = "teachers", description = "授课师资"),
        (name = "users", description = "用户管理（系统管理员）"),
        (name = "audit", description = "审计日志（审计管理员）"),
        (name = "calendar", description = "节假日安排与工作日（R-CAL-1）"),
        (name = "archive", description = "培训档案一期一档：材料矩阵、完整度、上传、下载、归档（R-ARC-1、R-ARC-2）"),
        (name = "plans", description = "年度培训任务计划（R-PLAN-1、R-PLAN-4）"),
        (name = "rounds", description = "培训批次与结转（R-PLAN-2、R-PLAN-3）"),
        (name = "applications", description = "申报与签约班次上限核定（R-CAP-1…7）"),
        (name = "agreements", description = "委托培训协议（R-AGR-1、R-CAP-8）"),
        (name = "filings", description = "开班备案与名额排队（R-FIL-6）"),
        (name = "bulletin", description = "公示（无需登录）"),
        (name = "tools", description = "试算工具"),
        (name = "inbox", description = "机构消息"),
        (name = "packages", description = "开班备案材料与花名册（R-FIL-1…5、R-FIL-2、R-VAL-1）"),
        (name = "review", description = "备案审核与名册变更审核（R-FIL-5、R-RUN-2）"),
        (name = "requests", description = "培训地址申请与线上培训申请（R-FIL-7、R-FIL-8）"),
        (name = "classes", description = "班次实施：开始培训、师资调整、签到、完成（R-RUN-1、R-RUN-2、R-OVD-1）"),
        (name = "reports", description = "月度开展情况反馈（R-RUN-3）"),
        (name = "inspections", description = "检查抽查与整改（R-RUN-4）"),
        (name = "overdue", description = "超期班次与超期处理（R-OVD-1、R-OVD-2）"),
        (name = "worklist", description = "待办事项"),
        (name = "policies", description = "政策参数版本：系统管理员提出、区培训中心负责人确认（R-POL-1）"),
        (name = "certificates", description = "考试结果、合格证书编码与公开查验（R-CRT-1、R-CRT-2）"),
        (name = "surveys", description = "学员满意度调查：问卷、公开填写与统计（R-EVA-3）"),
        (name = "violations", description = "违法违规行为：登记、另一名负责人确认或不予认定，确认后即时中止协议、释放名额、撤销证书编码（R-VIO-1、R-VIO-2）"),
        (name = "evaluations", description = "绩效评估：由记录计算、调整与确认（R-EVA-1），批次评估报告（R-EVA-2），得分用于下次签约上限（R-CAP-3）"),
        (name = "ops", description = "运行状态"),
        (name = "jobs", description = "后台任务：失效认领的释放与重新执行（系统管理员）"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The error answers every route can give because of how it is reached, not what it does
/// (SECURITY.md S18: the document states every status code the server sends), added to each
/// operation that does not already describe them:
/// - a signed-in route: 401 (no or an expired token) and 403 (the role may not use it, a password
///   change is due, or a cookie write without `X-CSRF-Token`) — [`crate::auth`]'s access check;
/// - a path parameter: 404 (a malformed or unknown id — [`crate::error::ApiPath`]); a JSON body
///   that names another record (`…_id`): 404 when it does not exist or is out of scope;
/// - a query parameter or a body: 422 (a malformed or out-of-range value —
///   [`crate::error::ApiQuery`], [`crate::error::ApiJson`]);
/// - a body: 413 (larger than [`crate::BODY_LIMIT`]).
///
/// It also names, as `x-roles`, the roles that may call each signed-in operation.
struct CommonErrors;

impl CommonErrors {
    fn add(op: &mut Operation, status: &str, description: &str) {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        )
                        .build(),
                )
            });
    }

    fn has_param(op: &Operation, place: ParameterIn) -> bool {
        op.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    }

    /// Whether the operation's JSON body names another record by id (`…_id`, `…_ids`): an
    /// unknown or out-of-scope one is answered 404 (S6: out of scope reads as not there).
    fn body_names_a_record(op: &Operation, schemas: &serde_json::Value) -> bool {
        fn names(v: &serde_json::Value, schemas: &serde_json::Value, depth: u8) -> bool {
            if depth > 4 {
                return false;
            }
            if let Some(r) = v.get("$ref").and_then(|r| r.as_str()) {
                let name = r.rsplit('/').next().unwrap_or_default();
                return schemas
                    .get(name)
                    .is_some_and(|s| names(s, schemas, depth + 1));
            }
            let own = v
                .get("properties")
                .and_then(|p| p.as_object())
                .is_some_and(|p| {
                    p.keys().any(|k| k.ends_with("_id") || k.ends_with("_ids"))
                        || p.values().any(|p| names(p, schemas, depth + 1))
                });
            own || ["items", "allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| match v.get(*k) {
                    Some(serde_json::Value::Array(xs)) => {
                        xs.iter().any(|x| names(x, schemas, depth + 1))
                    }
                    Some(x) => names(x, schemas, depth + 1),
                    None => false,
                })
        }
        let Some(body) = &op.request_body else {
            return false;
        };
        let body = serde_json::to_value(body).unwrap_or_default();
        body.get("content")
            .and_then(|c| c.get("application/json"))
            .and_then(|c| c.get("schema"))
            .is_some_and(|s| names(s, schemas, 0))
    }

    fn complete(op: &mut Operation, schemas: &serde_json::Value) {
        let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
        let has_body = op.request_body.is_some();
        if Self::body_names_a_record(op, schemas) {
            Self::add(op, "404", "提交内容所指的记录不存在或不在本人范围内");
        }
        if signed_in {
            Self::add(op, "401", "未登录或令牌无效、已过期");
            Self::add(
                op,
                "403",
                "角色无权使用此接口、记录不在本人范围内，或须先修改密码",
            );
        }
        if Self::has_param(op, ParameterIn::Path) {
            Self::add(op, "404", "记录不存在或编号格式不正确");
        }
        if has_body || Self::has_param(op, ParameterIn::Query) {
            Self::add(op, "422", "参数或提交内容不正确（指明字段与规则）");
        }
        if has_body {
            Self::add(op, "413", "提交的内容过大");
        }
    }
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let schemas = openapi
            .components
            .as_ref()
            .map(|c| serde_json::to_value(&c.schemas).unwrap_or_default())
            .unwrap_or_default();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
                ("PATCH", &mut item.patch),
            ] {
                if let Some(op) = op.as_mut() {
                    Self::complete(op, &schemas);
                    Self::roles(op, method, path);
                }
            }
        }
    }
}

impl CommonErrors {
    /// `x-roles`: the role codes the route table lets call the operation (S5), from the same
    /// table the access check uses; absent on public operations.
    fn roles(op: &mut Operation, method: &str, path: &str) {
        let Some(access) = crate::routes::access_for(method, path) else {
            return;
        };
        if access == crate::routes::Access::Public {
            return;
        }
        let roles: Vec<&str> = Role::ALL
            .iter()
            .filter(|r| access.allows(**r))
            .map(|r| r.code())
            .collect();
        let ext = op.extensions.get_or_insert_with(Default::default);
        ext.insert("x-roles".to_string(), serde_json::json!(roles));
    }
}
