//! The OpenAPI document at `GET /api/openapi.json` (snapshot-tested).

use crate::api_types::*;
use crate::error::ErrorBody;
use crate::routes::{api_admin, api_auth, api_institutions, ops};
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
    ),
    components(schemas(ErrorBody, LoginRequest, TokenResponse, MeResponse)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "登录与会话"),
        (name = "institutions", description = "培训机构目录"),
        (name = "teachers", description = "授课师资"),
        (name = "users", description = "用户管理（系统管理员）"),
        (name = "audit", description = "审计日志（审计管理员）"),
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
