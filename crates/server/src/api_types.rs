//! The JSON shapes of the API (view types; store rows are never serialised directly).

use chrono::{DateTime, Utc};
use peixun_store::accounts::UserView;
use peixun_store::audit::AuditEntry;
use peixun_store::institutions::{
    InstitutionInput, InstitutionStatus, InstitutionView, Qualification,
};
use peixun_store::teachers::{TeacherInput, TeacherQualification, TeacherView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Expires after 30 minutes idle, 12 hours at most.
    pub token: String,
}

/// The answer to a login: a `token`, or — for an account with TOTP enabled (S4) — no token but
/// `second_factor_required: true` and a `challenge` for `POST /api/v1/auth/totp/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Absent while a second factor is required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub second_factor_required: bool,
    /// For `POST /api/v1/auth/totp/verify`; valid for `challenge_expires_in` seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_expires_in: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Role code, e.g. `centre_staff`.
    pub role: String,
    pub role_label: String,
    pub institution_id: Option<i64>,
    pub institution_name: Option<String>,
    pub must_change_password: bool,
    /// The account must set up a TOTP authenticator before anything else (S4).
    pub totp_enrolment_required: bool,
    /// For cookie-authenticated API writes: send as `X-CSRF-Token`.
    pub csrf_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QualificationDto {
    /// 职业（工种）
    pub occupation: String,
    /// 等级: 初级、中级、高级、技师、高级技师、专项职业能力
    pub level: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionDto {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub credit_code_warning_confirmed: bool,
    pub registered_address: String,
    pub district: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub qualifications: Vec<QualificationDto>,
    pub major_project_capable: bool,
    pub major_projects: Vec<String>,
    /// `active` or `suspended`
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<InstitutionView> for InstitutionDto {
    fn from(v: InstitutionView) -> Self {
        InstitutionDto {
            id: v.id,
            name: v.name,
            credit_code: v.credit_code,
            credit_code_warning_confirmed: v.credit_code_warning_confirmed,
            registered_address: v.registered_address,
            district: v.district,
            contact_person: v.contact_person,
            contact_phone: v.contact_phone,
            qualifications: v
                .qualifications
                .into_iter()
                .map(|q| QualificationDto {
                    occupation: q.occupation,
                    level: q.level,
                })
                .collect(),
            major_project_capable: v.major_project_capable,
            major_projects: v.major_projects,
            status: v.status.code().to_string(),
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InstitutionInputDto {
    #[schema(max_length = 100)]
    pub name: String,
    pub credit_code: String,
    /// Set to accept a code whose check character is wrong (some early genuine codes).
    #[serde(default)]
    pub confirm_checksum_warning: bool,
    pub registered_address: String,
    #[serde(default)]
    pub district: Option<String>,
    pub contact_person: String,
    pub contact_phone: String,
    #[serde(default)]
    pub qualifications: Vec<QualificationDto>,
    #[serde(default)]
    pub major_projects: Vec<String>,
    /// `active` (default) or `suspended`
    #[serde(default)]
    pub status: Option<String>,
}

impl InstitutionInputDto {
    pub fn into_input(self) -> Result<InstitutionInput, crate::AppError> {
        let status = match self.status.as_deref() {
            None | Some("") => InstitutionStatus::Active,
            Some(s) => s.parse().map_err(|_| {
                crate::AppError::validation(
                    "STATUS_INVALID",
                    "状态须为 active 或 suspended",
                    Some("status"),
                )
            })?,
        };
        Ok(InstitutionInput {
            name: self.name,
            credit_code: self.credit_code,
            confirm_checksum_warning: self.confirm_checksum_warning,
            registered_address: self.registered_address,
            district: self.district,
            contact_person: self.contact_person,
            contact_phone: self.contact_phone,
            qualifications: self
                .qualifications
                .into_iter()
                .map(|q| Qualification {
                    occupation: q.occupation,
                    level: q.level,
                })
                .collect(),
            major_project_capable: !self.major_projects.is_empty(),
            major_projects: self.major_projects,
            status,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstitutionQuery {
    /// Name or credit code contains.
    pub q: Option<String>,
    /// Only institutions able to run major projects (南粤家政、粤菜师傅、广东技工).
    pub major_only: Option<bool>,
    /// `active` or `suspended`
    pub status: Option<String>,
    /// Approved for this occupation.
    pub occupation: Option<String>,
    /// 1-based page number.
    pub page: Option<u64>,
    /// Rows per page (1–500, default 50).
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionPage {
    pub items: Vec<InstitutionDto>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeacherQualificationDto {
    pub occupation: String,
    pub level: String,
    #[serde(default)]
    pub certificate_no: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeacherDto {
    pub id: i64,
    pub institution_id: i64,
    pub name: String,
    /// Masked (R-PII-1), e.g. `440105**********1235`.
    pub id_number_masked: String,
    pub phone: String,
    pub qualifications: Vec<TeacherQualificationDto>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TeacherView> for TeacherDto {
    fn from(v: TeacherView) -> Self {
        TeacherDto {
            id: v.id,
            institution_id: v.institution_id,
            name: v.name,
            id_number_masked: v.id_number_masked,
            phone: v.phone,
            qualifications: v
                .qualifications
                .into_iter()
                .map(|q| TeacherQualificationDto {
                    occupation: q.occupation,
                    level: q.level,
                    certificate_no: q.certificate_no,
                })
                .collect(),
            active: v.active,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TeacherInputDto {
    #[schema(max_length = 50)]
    pub name: String,
    /// 18-digit citizen ID. On update, leave empty to keep the stored number.
    #[serde(default)]
    pub id_number: String,
    pub phone: String,
    #[serde(default)]
    pub qualifications: Vec<TeacherQualificationDto>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl From<TeacherInputDto> for TeacherInput {
    fn from(d: TeacherInputDto) -> Self {
        TeacherInput {
            name: d.name,
            id_number: d.id_number,
            phone: d.phone,
            qualifications: d
                .qualifications
                .into_iter()
                .map(|q| TeacherQualification {
                    occupation: q.occupation,
                    level: q.level,
                    certificate_no: q.certificate_no,
                })
                .collect(),
            active: d.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeacherPage {
    pub items: Vec<TeacherDto>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub institution_id: Option<i64>,
    pub institution_name: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<UserView> for UserDto {
    fn from(u: UserView) -> Self {
        UserDto {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.code().to_string(),
            institution_id: u.institution_id,
            institution_name: u.institution_name,
            active: u.active,
            must_change_password: u.must_change_password,
            locked_until: u.locked_until,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserDto {
    pub username: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub display_name: String,
    /// Role code, e.g. `institution_admin`.
    pub role: String,
    /// Required for institution roles, refused for the others.
    #[serde(default)]
    pub institution_id: Option<i64>,
    /// Why the account is created (optional, ≤ 500 characters; audited).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// The new account (no usable password yet) and the first half of its one-time password.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    pub user: UserDto,
    pub credential: crate::routes::credentials::api::CredentialHalf,
}

/// Why a password is reset (required, 2–500 characters; audited).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordDto {
    #[schema(min_length = 2, max_length = 500)]
    pub reason: String,
    /// Also clear the account's authenticator (TOTP) when confirmed: a lost phone with no
    /// recovery code left.
    #[serde(default)]
    pub clear_authenticator: bool,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Username or name contains.
    pub q: Option<String>,
    /// Role code, e.g. `institution_admin`.
    pub role: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    /// Pages only: the confirmation after a change.
    #[param(ignore)]
    pub saved: Option<String>,
}

impl UserQuery {
    pub fn filter(&self) -> Result<peixun_store::accounts::UserFilter, crate::AppError> {
        let role = match self
            .role
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(r) => Some(r.parse().map_err(|_| {
                crate::AppError::validation("ROLE_INVALID", "角色不正确", Some("role"))
            })?),
        };
        Ok(peixun_store::accounts::UserFilter {
            q: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            role,
            ..Default::default()
        })
    }

    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            ("role", self.role.clone().unwrap_or_default()),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserDto>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub old_value: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub new_value: Option<serde_json::Value>,
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(e: AuditEntry) -> Self {
        AuditEntryDto {
            id: e.id,
            at: e.at,
            user_id: e.user_id,
            username: e.username,
            role: e.role,
            ip: e.ip,
            request_id: e.request_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            old_value: e.old_value,
            new_value: e.new_value,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub username: Option<String>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// First day (YYYY-MM-DD, Beijing time), inclusive.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, Beijing time), inclusive.
    pub to: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryDto>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevealRequest {
    /// Why the full number is needed (recorded in the audit log).
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealResponse {
    /// The full citizen ID number. Do not store or forward it.
    pub id_number: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// ≥ 12 characters, 3 of 4 character classes, not a common password (S1).
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetActiveRequest {
    pub active: bool,
}
