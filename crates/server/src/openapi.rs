//! The OpenAPI document at `GET /api/openapi.json` (snapshot-tested).

use crate::api_types::*;
use crate::error::ErrorBody;
use crate::routes::{
    api_admin, api_auth, api_filing_package, api_institutions, api_rounds, ops,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
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
        api_institutions::list,
        api_institutions::get_one,
        api_institutions::create,
        api_institutions::update,
        api_institutions::list_teachers,
        api_institutions::create_teacher,
        api_institutions::get_teacher,
        api_institutions::update_teacher,
        api_institutions::reveal_teacher_id,
        api_admin::list_users,
        api_admin::create_user,
        api_admin::set_active,
        api_admin::reset_password,
        api_admin::search_audit,
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
        api_rounds::submit_filing,
        api_rounds::get_filing,
        api_rounds::withdraw_filing,
        api_rounds::resubmit_filing,
        api_rounds::return_filing,
        api_rounds::reject_filing,
        api_rounds::approve_filing,
        api_rounds::calc_cap,
        api_rounds::list_inbox,
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
    ),
    components(schemas(ErrorBody, LoginRequest, TokenResponse, MeResponse)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "登录与会话"),
        (name = "institutions", description = "培训机构目录"),
        (name = "teachers", description = "授课师资"),
        (name = "users", description = "用户管理（系统管理员）"),
        (name = "audit", description = "审计日志（审计管理员）"),
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
        (name = "ops", description = "运行状态"),
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
