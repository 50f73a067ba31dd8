//! Every route and who may call it: [`ROUTES`] is the one declarative role × route table
//! (SECURITY.md S5). The router is built through [`Registrar`], which refuses (panics at start) to
//! register a route that has no entry in the table, and records what it registered so that the
//! tests can check every route against their own expected outcomes. Deny by default: a route the
//! table does not know is answered 403 by [`crate::auth::authorize`].

pub mod api_admin;
pub mod api_auth;
pub mod api_filing_package;
pub mod api_institutions;
pub mod api_rounds;
pub mod api_running;
pub mod archive;
pub mod calendar;
pub mod certificates;
pub mod credentials;
pub mod evaluation_reports;
pub mod evaluations;
pub mod forms;
pub mod jobs_admin;
pub mod ops;
pub mod pages_admin;
pub mod pages_agreements;
pub mod pages_auth;
pub mod pages_bulletin;
pub mod pages_filing_package;
pub mod pages_institutions;
pub mod pages_requests;
pub mod pages_rounds;
pub mod policies;
pub mod rounds_forms;
pub mod running;
pub mod surveys;
pub mod totp;
pub mod trainees;
pub mod violations;

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post, put};
use peixun_domain::role::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user, even one who must still change the one-time password.
    Session,
    /// Any signed-in user who has a usable password.
    AnyUser,
    /// Only these roles.
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Session | Access::AnyUser => true,
            Access::Roles(rs) => rs.contains(&role),
        }
    }

    pub fn allowed_before_password_change(self) -> bool {
        matches!(self, Access::Public | Access::Session)
    }
}

use Role::*;

/// 区培训中心: maintain the institution directory.
pub const CENTRE: &[Role] = &[CentreAdmin, CentreStaff];
/// Every business role reads institutions and teachers; institution roles see only their own
/// (enforced in the store, S6). sysadmin and auditor see no business data (S7).
pub const BUSINESS: &[Role] = &[
    CentreAdmin,
    CentreStaff,
    Bureau,
    City,
    InstitutionAdmin,
    InstitutionStaff,
];
/// Teachers: the centre manages all, an institution its own.
pub const TEACHER_WRITE: &[Role] = &[CentreAdmin, CentreStaff, InstitutionAdmin, InstitutionStaff];
pub const SYSADMIN: &[Role] = &[Sysadmin];
/// Credential requests (S7): sysadmins see and withdraw theirs, confirmers see and decide.
pub const CREDENTIAL_REQUESTS: &[Role] = &[Sysadmin, CentreAdmin, InstitutionAdmin];
/// Who may confirm a credential request (the store checks which ones).
pub const CREDENTIAL_CONFIRM: &[Role] = &[CentreAdmin, InstitutionAdmin];
/// Plans, rounds, caps and agreements (R-PLAN-*, R-CAP-*, R-AGR-1): the centre admin decides.
pub const CENTRE_ADMIN: &[Role] = &[CentreAdmin];
/// The bureau co-approves the year plan (R-PLAN-1).
pub const BUREAU: &[Role] = &[Bureau];
/// Who reads plans and caps: the centre, the bureau and the city.
pub const PLAN_READ: &[Role] = &[CentreAdmin, CentreStaff, Bureau, City];
/// Institutions apply, file and read their inbox (their own records only, S6).
pub const INSTITUTION: &[Role] = &[InstitutionAdmin, InstitutionStaff];
pub const AUDITOR: &[Role] = &[Auditor];
/// Policy versions (R-POL-1): the sysadmin proposes, a centre_admin confirms; the centre, the
/// bureau and the city read them.
pub const POLICY_READ: &[Role] = &[Sysadmin, CentreAdmin, CentreStaff, Bureau, City];
/// Exam results and certificate codes (R-CRT-1): the centre and the class's own institution
/// (checked per record in the store, S6); not the bureau or the city (names of trainees).
pub const RESULTS_READ: &[Role] = &[CentreAdmin, CentreStaff, InstitutionAdmin, InstitutionStaff];
/// A class's survey counts (R-EVA-3): the centre, bureau, city and the class's own institution
/// (checked per record in the store, S6: another institution gets 404).
pub const SURVEY_CLASS_READ: &[Role] = BUSINESS;

/// One row of the role × route table.
#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteDef {
    RouteDef {
        method,
        path,
        access,
    }
}

/// The role × route table. Paths use axum 0.8 syntax (`{id}`).
pub const ROUTES: &[RouteDef] = &[
    // operations
    r("GET", "/healthz", Access::Public),
    r("GET", "/metrics", Access::Public),
    r("GET", "/static/app.css", Access::Public),
    r("GET", "/api/openapi.json", Access::Public),
    // sign in / out
    r("GET", "/login", Access::Public),
    r("POST", "/login", Access::Public),
    r("POST", "/logout", Access::Session),
    r("GET", "/account/password", Access::Session),
    r("POST", "/account/password", Access::Session),
    r("POST", "/api/v1/auth/login", Access::Public),
    r("POST", "/api/v1/auth/logout", Access::Session),
    r("GET", "/api/v1/me", Access::Session),
    r("POST", "/api/v1/auth/password", Access::Session),
    // TOTP second factor (S4): the second step of a login, and the account's own enrolment —
    // `Session`, so that an account that must enrol reaches them before anything else.
    r("GET", "/login/totp", Access::Public),
    r("POST", "/login/totp", Access::Public),
    r("POST", "/api/v1/auth/totp/verify", Access::Public),
    r("GET", "/account/totp", Access::Session),
    r("POST", "/account/totp/enrol", Access::Session),
    r("POST", "/account/totp/confirm", Access::Session),
    r("POST", "/account/totp/disable", Access::Session),
    r("GET", "/api/v1/auth/totp/status", Access::Session),
    r("POST", "/api/v1/auth/totp/enrol", Access::Session),
    r("POST", "/api/v1/auth/totp/confirm", Access::Session),
    r("POST", "/api/v1/auth/totp/disable", Access::Session),
    // home
    r("GET", "/", Access::AnyUser),
    // institutions (API)
    r("GET", "/api/v1/institutions", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/institutions", Access::Roles(CENTRE)),
    r("GET", "/api/v1/institutions/{id}", Access::Roles(BUSINESS)),
    r("PUT", "/api/v1/institutions/{id}", Access::Roles(CENTRE)),
    r(
        "GET",
        "/api/v1/institutions/{id}/teachers",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/institutions/{id}/teachers",
        Access::Roles(TEACHER_WRITE),
    ),
    r("GET", "/api/v1/teachers/{id}", Access::Roles(BUSINESS)),
    r("PUT", "/api/v1/teachers/{id}", Access::Roles(TEACHER_WRITE)),
    // Full ID number on purpose, with a reason, audited (R-PII-1, S13): those who manage teachers.
    r(
        "POST",
        "/api/v1/teachers/{id}/reveal",
        Access::Roles(TEACHER_WRITE),
    ),
    // institutions (pages)
    r("GET", "/institutions", Access::Roles(BUSINESS)),
    r("GET", "/institutions/export.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/institutions/new", Access::Roles(CENTRE)),
    r("POST", "/institutions/new", Access::Roles(CENTRE)),
    r("GET", "/institutions/{id}", Access::Roles(BUSINESS)),
    r("GET", "/institutions/{id}/edit", Access::Roles(CENTRE)),
    r("POST", "/institutions/{id}/edit", Access::Roles(CENTRE)),
    r(
        "GET",
        "/institutions/{id}/teachers",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/institutions/{id}/teachers/export.xlsx",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/institutions/{id}/teachers/new",
        Access::Roles(TEACHER_WRITE),
    ),
    r(
        "POST",
        "/institutions/{id}/teachers/new",
        Access::Roles(TEACHER_WRITE),
    ),
    r("GET", "/teachers/{id}/edit", Access::Roles(TEACHER_WRITE)),
    r("POST", "/teachers/{id}/edit", Access::Roles(TEACHER_WRITE)),
    r("GET", "/teachers/{id}/reveal", Access::Roles(TEACHER_WRITE)),
    r(
        "POST",
        "/teachers/{id}/reveal",
        Access::Roles(TEACHER_WRITE),
    ),
    // A trainee's full ID number on purpose, with a reason, audited (R-PII-1, S13): the centre
    // and institution writers (the store narrows an institution to its own classes).
    r(
        "POST",
        "/api/v1/trainees/{id}/reveal",
        Access::Roles(TEACHER_WRITE),
    ),
    r("GET", "/trainees/{id}/reveal", Access::Roles(TEACHER_WRITE)),
    r(
        "POST",
        "/trainees/{id}/reveal",
        Access::Roles(TEACHER_WRITE),
    ),
    // the holiday calendar (R-CAL-1): everyone signed in reads it, the sysadmin loads years
    r("GET", "/api/v1/calendar/years", Access::AnyUser),
    r("GET", "/api/v1/calendar/years/{year}", Access::AnyUser),
    r("POST", "/api/v1/calendar/preview", Access::Roles(SYSADMIN)),
    r("POST", "/api/v1/calendar/import", Access::Roles(SYSADMIN)),
    r("GET", "/calendar", Access::AnyUser),
    r("GET", "/calendar/import", Access::Roles(SYSADMIN)),
    r("POST", "/calendar/import", Access::Roles(SYSADMIN)),
    // users (sysadmin)
    r("GET", "/api/v1/users", Access::Roles(SYSADMIN)),
    r("POST", "/api/v1/users", Access::Roles(SYSADMIN)),
    r("POST", "/api/v1/users/{id}/active", Access::Roles(SYSADMIN)),
    r(
        "POST",
        "/api/v1/users/{id}/reset-password",
        Access::Roles(SYSADMIN),
    ),
    r("GET", "/users", Access::Roles(SYSADMIN)),
    r("GET", "/users/export.xlsx", Access::Roles(SYSADMIN)),
    r("GET", "/users/new", Access::Roles(SYSADMIN)),
    r("POST", "/users/new", Access::Roles(SYSADMIN)),
    r("POST", "/users/{id}/active", Access::Roles(SYSADMIN)),
    r("GET", "/users/{id}/reset-password", Access::Roles(SYSADMIN)),
    r(
        "POST",
        "/users/{id}/reset-password",
        Access::Roles(SYSADMIN),
    ),
    // two-person credential issue (S7): sysadmins request, a centre_admin (or the
    // institution's admin, for its staff) confirms; the store decides per request
    r(
        "GET",
        "/api/v1/credential-requests",
        Access::Roles(CREDENTIAL_REQUESTS),
    ),
    r(
        "GET",
        "/api/v1/credential-requests/{id}",
        Access::Roles(CREDENTIAL_REQUESTS),
    ),
    r(
        "POST",
        "/api/v1/credential-requests/{id}/confirm",
        Access::Roles(CREDENTIAL_CONFIRM),
    ),
    r(
        "POST",
        "/api/v1/credential-requests/{id}/cancel",
        Access::Roles(CREDENTIAL_REQUESTS),
    ),
    r(
        "GET",
        "/credential-requests",
        Access::Roles(CREDENTIAL_REQUESTS),
    ),
    r(
        "POST",
        "/credential-requests/{id}/confirm",
        Access::Roles(CREDENTIAL_CONFIRM),
    ),
    r(
        "POST",
        "/credential-requests/{id}/cancel",
        Access::Roles(CREDENTIAL_REQUESTS),
    ),
    // plans and rounds (R-PLAN-1..4), applications, caps and agreements (R-CAP-*, R-AGR-1),
    // the quota queue (R-FIL-6), the public bulletin, the cap calculator and the inbox (API)
    r("GET", "/api/v1/plans", Access::Roles(PLAN_READ)),
    r("POST", "/api/v1/plans", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/api/v1/plans/{id}", Access::Roles(PLAN_READ)),
    r("PUT", "/api/v1/plans/{id}", Access::Roles(CENTRE_ADMIN)),
    r(
        "POST",
        "/api/v1/plans/{id}/submit",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("POST", "/api/v1/plans/{id}/decision", Access::Roles(BUREAU)),
    r("GET", "/api/v1/rounds", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/rounds", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/api/v1/rounds/{id}", Access::Roles(BUSINESS)),
    r("PUT", "/api/v1/rounds/{id}", Access::Roles(CENTRE_ADMIN)),
    r(
        "POST",
        "/api/v1/rounds/{id}/publish",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/rounds/{id}/close",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "GET",
        "/api/v1/rounds/{id}/history",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/rounds/{id}/applications",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/rounds/{id}/agreements",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/rounds/{id}/filings",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/api/v1/rounds/{id}/bulletin", Access::Public),
    r("GET", "/api/v1/bulletin", Access::Public),
    r("POST", "/api/v1/applications", Access::Roles(INSTITUTION)),
    r("GET", "/api/v1/applications/{id}", Access::Roles(BUSINESS)),
    r(
        "GET",
        "/api/v1/applications/{id}/cap",
        Access::Roles(PLAN_READ),
    ),
    r("POST", "/api/v1/agreements", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/api/v1/agreements/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/agreements/{id}/override",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/agreements/{id}/terminate",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "GET",
        "/api/v1/institutions/{id}/performance",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/institutions/{id}/performance",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/api/v1/filings/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/filings/{id}/withdraw",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/filings/{id}/resubmit",
        Access::Roles(INSTITUTION),
    ),
    r("POST", "/api/v1/filings/{id}/return", Access::Roles(CENTRE)),
    r("POST", "/api/v1/filings/{id}/reject", Access::Roles(CENTRE)),
    r(
        "POST",
        "/api/v1/filings/{id}/approve",
        Access::Roles(CENTRE),
    ),
    r("POST", "/api/v1/tools/cap", Access::Roles(CENTRE)),
    r("GET", "/api/v1/inbox", Access::Roles(INSTITUTION)),
    // the same, as pages
    r("GET", "/plans", Access::Roles(PLAN_READ)),
    r("GET", "/plans/new", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/plans/new", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/plans/{id}", Access::Roles(PLAN_READ)),
    r("GET", "/plans/{id}/edit", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/plans/{id}/edit", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/plans/{id}/submit", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/plans/{id}/decide", Access::Roles(BUREAU)),
    r("GET", "/rounds", Access::Roles(BUSINESS)),
    r("GET", "/rounds/export.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/rounds/new", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/rounds/new", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/rounds/{id}", Access::Roles(BUSINESS)),
    r("GET", "/rounds/{id}/edit", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/rounds/{id}/edit", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/rounds/{id}/publish", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/rounds/{id}/close", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/rounds/{id}/apply", Access::Roles(INSTITUTION)),
    r("POST", "/rounds/{id}/apply", Access::Roles(INSTITUTION)),
    r("GET", "/rounds/{id}/applications", Access::Roles(BUSINESS)),
    r(
        "GET",
        "/rounds/{id}/applications/export.xlsx",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/rounds/{id}/filings", Access::Roles(BUSINESS)),
    r(
        "GET",
        "/rounds/{id}/filings/export.xlsx",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/applications/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/applications/{id}/sign",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/applications/{id}/performance",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/agreements/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/agreements/{id}/override",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/agreements/{id}/terminate",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/filings/{id}", Access::Roles(BUSINESS)),
    r("POST", "/filings/{id}/withdraw", Access::Roles(INSTITUTION)),
    r("POST", "/filings/{id}/resubmit", Access::Roles(INSTITUTION)),
    r("POST", "/filings/{id}/return", Access::Roles(CENTRE)),
    r("POST", "/filings/{id}/reject", Access::Roles(CENTRE)),
    r("POST", "/filings/{id}/approve", Access::Roles(CENTRE)),
    r(
        "POST",
        "/filings/{id}/supplement",
        Access::Roles(INSTITUTION),
    ),
    r("GET", "/bulletin", Access::Public),
    r("GET", "/bulletin/rounds/{id}", Access::Public),
    r("GET", "/bulletin/rounds/{id}/export.xlsx", Access::Public),
    r("GET", "/tools/cap", Access::Roles(CENTRE)),
    r("GET", "/inbox", Access::Roles(INSTITUTION)),
    r("POST", "/inbox/{id}/read", Access::Roles(INSTITUTION)),
    // the filing package, roster import, review queue, address / online requests (issue 5:
    // R-FIL-1…5, R-FIL-7, R-FIL-8, R-RUN-2); records are checked in the store (S6)
    r("GET", "/api/v1/packages", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/packages", Access::Roles(INSTITUTION)),
    r("GET", "/api/v1/packages/{id}", Access::Roles(BUSINESS)),
    r("PUT", "/api/v1/packages/{id}", Access::Roles(INSTITUTION)),
    r(
        "GET",
        "/api/v1/packages/{id}/problems",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/packages/{id}/submit",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/packages/{id}/files/{kind}",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/api/v1/packages/{id}/files/{kind}",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/packages/{id}/roster",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/api/v1/packages/{id}/roster",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/roster-template.xlsx",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/roster-template.csv",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/api/v1/review", Access::Roles(CENTRE)),
    r(
        "POST",
        "/api/v1/filings/{id}/roster-change/approve",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/api/v1/filings/{id}/roster-change/reject",
        Access::Roles(CENTRE),
    ),
    r("GET", "/api/v1/requests", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/requests", Access::Roles(INSTITUTION)),
    r("GET", "/api/v1/requests/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/requests/{id}/evidence/{kind}",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/requests/{id}/notes",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/api/v1/requests/{id}/evidence/{kind}",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/requests/{id}/approve",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/api/v1/requests/{id}/refuse",
        Access::Roles(CENTRE),
    ),
    r("GET", "/packages", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/agreements/{id}/packages",
        Access::Roles(INSTITUTION),
    ),
    r("GET", "/packages/{id}", Access::Roles(BUSINESS)),
    r("POST", "/packages/{id}", Access::Roles(INSTITUTION)),
    r("POST", "/packages/{id}/files", Access::Roles(INSTITUTION)),
    r(
        "GET",
        "/packages/{id}/files/{kind}",
        Access::Roles(BUSINESS),
    ),
    r("POST", "/packages/{id}/roster", Access::Roles(INSTITUTION)),
    r("POST", "/packages/{id}/submit", Access::Roles(INSTITUTION)),
    r("POST", "/packages/{id}/return", Access::Roles(CENTRE)),
    r("GET", "/filings/{id}/package", Access::Roles(BUSINESS)),
    r("GET", "/roster-template.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/roster-template.csv", Access::Roles(BUSINESS)),
    r("GET", "/review", Access::Roles(CENTRE)),
    r("GET", "/review/export.xlsx", Access::Roles(CENTRE)),
    r(
        "POST",
        "/filings/{id}/roster-change/approve",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/filings/{id}/roster-change/reject",
        Access::Roles(CENTRE),
    ),
    r("GET", "/requests", Access::Roles(BUSINESS)),
    r("GET", "/requests/export.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/requests/new", Access::Roles(INSTITUTION)),
    r("POST", "/requests/new", Access::Roles(INSTITUTION)),
    r("GET", "/requests/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/requests/{id}/evidence",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/requests/{id}/evidence/{kind}",
        Access::Roles(BUSINESS),
    ),
    r("POST", "/requests/{id}/approve", Access::Roles(CENTRE)),
    r("POST", "/requests/{id}/refuse", Access::Roles(CENTRE)),
    // running a class, monthly reports, inspections, overdue and sanctions, the work list
    // (issue 5 items 5–7: R-RUN-1..4, R-OVD-1/2); records are checked in the store (S6)
    r("GET", "/api/v1/classes", Access::Roles(BUSINESS)),
    r("GET", "/api/v1/classes/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/classes/{id}/start",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/complete-training",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/complete-exam",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/teacher-changes",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/attendance",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/api/v1/classes/{id}/attendance",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/api/v1/teacher-changes", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/teacher-changes/{id}/acknowledge",
        Access::Roles(CENTRE),
    ),
    r("GET", "/api/v1/reports", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/reports", Access::Roles(INSTITUTION)),
    r("GET", "/api/v1/reports/status", Access::Roles(BUSINESS)),
    r("GET", "/api/v1/reports/{id}", Access::Roles(BUSINESS)),
    r("GET", "/api/v1/inspections", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/inspections", Access::Roles(CENTRE)),
    r("GET", "/api/v1/inspections/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/inspections/{id}/rectify",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/inspections/{id}/close",
        Access::Roles(CENTRE),
    ),
    r("GET", "/api/v1/sanctions", Access::Roles(BUSINESS)),
    r("GET", "/api/v1/sanctions/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/sanctions/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/sanctions/{id}/dismiss",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/class-flags/{id}/decide",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/api/v1/overdue", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/overdue/sweep", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/api/v1/worklist", Access::Roles(BUSINESS)),
    r("GET", "/classes", Access::Roles(BUSINESS)),
    r("GET", "/classes/{id}", Access::Roles(BUSINESS)),
    r("POST", "/classes/{id}/start", Access::Roles(INSTITUTION)),
    r(
        "POST",
        "/classes/{id}/complete-training",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/classes/{id}/complete-exam",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/classes/{id}/teacher-change",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/classes/{id}/attendance",
        Access::Roles(INSTITUTION),
    ),
    r("POST", "/classes/{id}/inspections", Access::Roles(CENTRE)),
    // the class archive 一期一档 (R-ARC-1/2): readers of the class read it, its institution
    // uploads, the centre archives (S6 in the store)
    r(
        "GET",
        "/api/v1/classes/{id}/archive",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/archive/documents",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/archive/zip",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/api/v1/classes/{id}/archive/download",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/archive/mark-archived",
        Access::Roles(CENTRE),
    ),
    r(
        "GET",
        "/api/v1/archive-documents/{id}",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/classes/{id}/archive", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/classes/{id}/archive/upload",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/classes/{id}/archive/zip",
        Access::Roles(INSTITUTION),
    ),
    r(
        "GET",
        "/classes/{id}/archive/download",
        Access::Roles(BUSINESS),
    ),
    r(
        "POST",
        "/classes/{id}/archive/mark-archived",
        Access::Roles(CENTRE),
    ),
    r("GET", "/archive-documents/{id}", Access::Roles(BUSINESS)),
    r("GET", "/teacher-changes", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/teacher-changes/{id}/acknowledge",
        Access::Roles(CENTRE),
    ),
    r("GET", "/reports", Access::Roles(BUSINESS)),
    r("POST", "/reports", Access::Roles(INSTITUTION)),
    r("GET", "/reports/export.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/inspections", Access::Roles(BUSINESS)),
    r("GET", "/inspections/export.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/inspections/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/inspections/{id}/rectify",
        Access::Roles(INSTITUTION),
    ),
    r("POST", "/inspections/{id}/close", Access::Roles(CENTRE)),
    r("POST", "/inspections/{id}/photos", Access::Roles(CENTRE)),
    r(
        "GET",
        "/inspections/{id}/photos/{file_id}",
        Access::Roles(BUSINESS),
    ),
    r("GET", "/progress", Access::Roles(BUSINESS)),
    r("GET", "/sanctions", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/sanctions/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/sanctions/{id}/dismiss",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/class-flags/{id}/decide",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/overdue", Access::Roles(BUSINESS)),
    r("GET", "/overdue/export.xlsx", Access::Roles(BUSINESS)),
    r("POST", "/overdue/sweep", Access::Roles(CENTRE_ADMIN)),
    // policy versions (R-POL-1): four eyes — sysadmin proposes and withdraws, centre_admin
    // confirms or rejects
    r("GET", "/api/v1/policies", Access::Roles(POLICY_READ)),
    r("POST", "/api/v1/policies", Access::Roles(SYSADMIN)),
    r(
        "GET",
        "/api/v1/policies/compare",
        Access::Roles(POLICY_READ),
    ),
    r("GET", "/api/v1/policies/{id}", Access::Roles(POLICY_READ)),
    r(
        "POST",
        "/api/v1/policies/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/policies/{id}/reject",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/policies/{id}/withdraw",
        Access::Roles(SYSADMIN),
    ),
    r("GET", "/policies", Access::Roles(POLICY_READ)),
    r("GET", "/policies/new", Access::Roles(SYSADMIN)),
    r("POST", "/policies/new", Access::Roles(SYSADMIN)),
    r("GET", "/policies/compare", Access::Roles(POLICY_READ)),
    r("GET", "/policies/{id}", Access::Roles(POLICY_READ)),
    r(
        "POST",
        "/policies/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("POST", "/policies/{id}/reject", Access::Roles(CENTRE_ADMIN)),
    r("POST", "/policies/{id}/withdraw", Access::Roles(SYSADMIN)),
    // background jobs (sysadmin operates them; the jobs change business records only through
    // their own code): stale claims, release, re-run one period
    r("GET", "/api/v1/admin/jobs", Access::Roles(SYSADMIN)),
    r(
        "POST",
        "/api/v1/admin/jobs/runs/{id}/release",
        Access::Roles(SYSADMIN),
    ),
    r(
        "POST",
        "/api/v1/admin/jobs/{job}/rerun",
        Access::Roles(SYSADMIN),
    ),
    r("GET", "/admin/jobs", Access::Roles(SYSADMIN)),
    r(
        "POST",
        "/admin/jobs/runs/{id}/release",
        Access::Roles(SYSADMIN),
    ),
    r("POST", "/admin/jobs/{job}/rerun", Access::Roles(SYSADMIN)),
    // exam results, certificate codes, public verification (R-CRT-1, R-CRT-2)
    r(
        "GET",
        "/api/v1/classes/{id}/results",
        Access::Roles(RESULTS_READ),
    ),
    r(
        "PUT",
        "/api/v1/classes/{id}/results",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/results/import",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/api/v1/classes/{id}/results/confirm",
        Access::Roles(CENTRE),
    ),
    r(
        "GET",
        "/api/v1/classes/{id}/certificates",
        Access::Roles(RESULTS_READ),
    ),
    r(
        "POST",
        "/api/v1/certificates/revoke",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/api/v1/certificates/verify", Access::Public),
    r("GET", "/classes/{id}/results", Access::Roles(RESULTS_READ)),
    r("POST", "/classes/{id}/results", Access::Roles(INSTITUTION)),
    r(
        "POST",
        "/classes/{id}/results/import",
        Access::Roles(INSTITUTION),
    ),
    r(
        "POST",
        "/classes/{id}/results/confirm",
        Access::Roles(CENTRE),
    ),
    r(
        "GET",
        "/classes/{id}/certificates",
        Access::Roles(RESULTS_READ),
    ),
    r(
        "GET",
        "/classes/{id}/certificates/export.xlsx",
        Access::Roles(RESULTS_READ),
    ),
    r("POST", "/certificates/revoke", Access::Roles(CENTRE_ADMIN)),
    r("GET", "/results-template.csv", Access::Roles(RESULTS_READ)),
    r("GET", "/verify", Access::Public),
    // trainee satisfaction survey (R-EVA-3): the survey link is public; counts per class for
    // the centre, bureau, city and the class's institution; the round's page and
    // questionnaire for the centre, bureau and city; the centre edits
    r("GET", "/s/{token}", Access::Public),
    r("POST", "/s/{token}", Access::Public),
    r("GET", "/s/{token}/thanks", Access::Public),
    r(
        "GET",
        "/classes/{id}/survey/qr.svg",
        Access::Roles(RESULTS_READ),
    ),
    r(
        "POST",
        "/classes/{id}/survey/closing",
        Access::Roles(CENTRE),
    ),
    r("GET", "/rounds/{id}/survey", Access::Roles(PLAN_READ)),
    r("POST", "/rounds/{id}/survey", Access::Roles(CENTRE)),
    r(
        "GET",
        "/api/v1/surveys/classes/{id}",
        Access::Roles(SURVEY_CLASS_READ),
    ),
    r(
        "PUT",
        "/api/v1/surveys/classes/{id}/closing",
        Access::Roles(CENTRE),
    ),
    r(
        "GET",
        "/api/v1/surveys/rounds/{id}",
        Access::Roles(PLAN_READ),
    ),
    r(
        "GET",
        "/api/v1/surveys/rounds/{id}/questionnaire",
        Access::Roles(PLAN_READ),
    ),
    r(
        "PUT",
        "/api/v1/surveys/rounds/{id}/questionnaire",
        Access::Roles(CENTRE),
    ),
    r("GET", "/api/v1/surveys/{token}", Access::Public),
    r("POST", "/api/v1/surveys/{token}/responses", Access::Public),
    // violations (R-VIO-1/2): the centre records, a centre_admin other than the recorder
    // decides; institutions read their own confirmed ones (S6, in the store)
    r("GET", "/api/v1/violations", Access::Roles(BUSINESS)),
    r("POST", "/api/v1/violations", Access::Roles(CENTRE)),
    r("GET", "/api/v1/violations/{id}", Access::Roles(BUSINESS)),
    r(
        "GET",
        "/api/v1/violations/{id}/preview",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/api/v1/violations/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/api/v1/violations/{id}/dismiss",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/violations", Access::Roles(BUSINESS)),
    r("GET", "/violations/export.xlsx", Access::Roles(BUSINESS)),
    r("GET", "/violations/new", Access::Roles(CENTRE)),
    r("POST", "/violations", Access::Roles(CENTRE)),
    r("GET", "/violations/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/violations/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "POST",
        "/violations/{id}/dismiss",
        Access::Roles(CENTRE_ADMIN),
    ),
    r(
        "GET",
        "/violations/{id}/evidence/{file_id}",
        Access::Roles(BUSINESS),
    ),
    // evaluations (R-EVA-1): read by the business roles (S6 per record), written by the centre
    r("GET", "/api/v1/evaluations", Access::Roles(BUSINESS)),
    r("GET", "/api/v1/evaluations/{id}", Access::Roles(BUSINESS)),
    r(
        "POST",
        "/api/v1/agreements/{id}/evaluation",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/api/v1/evaluations/{id}/adjustments",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/api/v1/evaluations/{id}/recompute",
        Access::Roles(CENTRE),
    ),
    r(
        "POST",
        "/api/v1/evaluations/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    r("GET", "/evaluations", Access::Roles(BUSINESS)),
    r("GET", "/evaluations/{id}", Access::Roles(BUSINESS)),
    r("POST", "/agreements/{id}/evaluation", Access::Roles(CENTRE)),
    r("POST", "/evaluations/{id}/recompute", Access::Roles(CENTRE)),
    r("POST", "/evaluations/{id}/adjust", Access::Roles(CENTRE)),
    r(
        "POST",
        "/evaluations/{id}/confirm",
        Access::Roles(CENTRE_ADMIN),
    ),
    // the round's evaluation report (R-EVA-2): the centre, the bureau and the city; an
    // institution is answered 404 by the handler (the table lets it through so that it is)
    r(
        "GET",
        "/rounds/{id}/evaluations/chart",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/rounds/{id}/evaluations/report.docx",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/rounds/{id}/evaluations/report.xlsx",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/rounds/{id}/evaluations/report.docx",
        Access::Roles(BUSINESS),
    ),
    r(
        "GET",
        "/api/v1/rounds/{id}/evaluations/report.xlsx",
        Access::Roles(BUSINESS),
    ),
    // audit (auditor)
    r("GET", "/api/v1/audit", Access::Roles(AUDITOR)),
    r("GET", "/audit", Access::Roles(AUDITOR)),
    r("GET", "/audit/export.xlsx", Access::Roles(AUDITOR)),
];

/// The table entry for a matched route (HEAD is checked as GET by the caller).
pub fn access_for(method: &str, path: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|d| d.method == method && d.path == path)
        .map(|d| d.access)
}

/// Builds the router and records every (method, path) it registers.
pub struct Registrar {
    router: Router<AppState>,
    registered: Vec<(&'static str, &'static str)>,
}

impl Registrar {
    fn new() -> Self {
        Registrar {
            router: Router::new(),
            registered: Vec::new(),
        }
    }

    fn add(mut self, method: &'static str, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        assert!(
            access_for(method, path).is_some(),
            "route {method} {path} has no entry in routes::ROUTES (deny by default)"
        );
        self.registered.push((method, path));
        self.router = self.router.route(path, mr);
        self
    }

    pub fn get<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, get(h))
    }

    pub fn post<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, post(h))
    }

    pub fn put<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("PUT", path, put(h))
    }
}

fn build() -> Registrar {
    let r = Registrar::new();
    let r = ops::register(r);
    let r = pages_auth::register(r);
    let r = api_auth::register(r);
    let r = totp::register(r);
    let r = api_institutions::register(r);
    let r = pages_institutions::register(r);
    let r = api_admin::register(r);
    let r = calendar::register(r);
    let r = api_rounds::register(r);
    let r = pages_rounds::register(r);
    let r = pages_agreements::register(r);
    let r = pages_bulletin::register(r);
    let r = api_filing_package::register(r);
    let r = pages_filing_package::register(r);
    let r = trainees::register(r);
    let r = pages_requests::register(r);
    let r = api_running::register(r);
    let r = running::register(r);
    let r = archive::register(r);
    let r = policies::register(r);
    let r = certificates::register(r);
    let r = surveys::register(r);
    let r = violations::register(r);
    let r = evaluations::register(r);
    let r = evaluation_reports::register(r);
    let r = jobs_admin::register(r);
    let r = credentials::register(r);
    pages_admin::register(r)
}

/// Every (method, path) the router serves, in registration order (for the S5 table test).
pub fn registered_routes() -> Vec<(&'static str, &'static str)> {
    build().registered
}

/// The routes without middleware or state (see [`crate::router`]).
pub(crate) fn routes() -> Router<AppState> {
    build().router
}
