//! S5: the role × route table. Every route the router registers must have a row here, and every
//! row is checked for anonymous and the nine users. Outcomes include the record-level rule (S6):
//! institution B asking for institution A's records gets 403.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use axum::http::Method;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy)]
enum Call {
    /// GET with the session cookie (pages).
    Page,
    /// A page form POST with the CSRF token and these fields.
    Form(&'static [(&'static str, &'static str)]),
    /// GET with a bearer token.
    Api,
    /// API write with a bearer token and this JSON body.
    ApiBody(&'static str),
    /// Like `Form`/`ApiBody` but on a fresh session (the call ends it).
    LogoutForm,
    LogoutApi,
}

struct Row {
    method: &'static str,
    path: &'static str,
    call: Call,
    /// Expected status for [anonymous, centre_admin, centre_staff, bureau, city, inst_a_admin,
    /// inst_a_staff, inst_b_admin, auditor, sysadmin].
    expect: [u16; 10],
}

const fn row(method: &'static str, path: &'static str, call: Call, expect: [u16; 10]) -> Row {
    Row {
        method,
        path,
        call,
        expect,
    }
}

// Columns: anon, CA, CS, bureau, city, IA_A, IS_A, IA_B, auditor, sysadmin
const ALL_200: [u16; 10] = [200; 10];
const PAGE_ANY_USER: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 200, 200, 200];
const API_ANY_USER: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 200, 200, 200];
const PAGE_BUSINESS_LIST: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 200, 403, 403];
const API_BUSINESS_LIST: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 200, 403, 403];
/// Reading institution A's record: institution B is refused (S6).
const PAGE_READ_A: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 403, 403, 403];
const API_READ_A: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 403, 403, 403];
const PAGE_CENTRE: [u16; 10] = [303, 200, 200, 403, 403, 403, 403, 403, 403, 403];
const PAGE_CENTRE_FORM: [u16; 10] = [303, 422, 422, 403, 403, 403, 403, 403, 403, 403];
const API_CENTRE_WRITE: [u16; 10] = [401, 422, 422, 403, 403, 403, 403, 403, 403, 403];
/// Managing institution A's teachers: centre and A, not B (S6).
const PAGE_TEACHERS_A: [u16; 10] = [303, 200, 200, 403, 403, 200, 200, 403, 403, 403];
const PAGE_TEACHERS_A_FORM: [u16; 10] = [303, 422, 422, 403, 403, 422, 422, 403, 403, 403];
const API_TEACHERS_A_WRITE: [u16; 10] = [401, 422, 422, 403, 403, 422, 422, 403, 403, 403];
const PAGE_SYSADMIN: [u16; 10] = [303, 403, 403, 403, 403, 403, 403, 403, 403, 200];
const API_SYSADMIN: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 403, 403, 200];
const PAGE_AUDITOR: [u16; 10] = [303, 403, 403, 403, 403, 403, 403, 403, 200, 403];
const API_AUDITOR: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 403, 200, 403];

/// An institution body that parses but fails validation (empty name) — the permission checks
/// run first, so allowed roles get 422 and others 403.
const BAD_INSTITUTION: &str = r#"{"name":"","credit_code":"","registered_address":"","contact_person":"","contact_phone":""}"#;
const BAD_TEACHER: &str = r#"{"name":"","id_number":"","phone":""}"#;

// Plans, rounds, caps, agreements, filings (issue 4).
const PAGE_PLAN_READ: [u16; 10] = [303, 200, 200, 200, 200, 403, 403, 403, 403, 403];
const API_PLAN_READ: [u16; 10] = [401, 200, 200, 200, 200, 403, 403, 403, 403, 403];
const PAGE_CA: [u16; 10] = [303, 200, 403, 403, 403, 403, 403, 403, 403, 403];
const PAGE_CA_FORM: [u16; 10] = [303, 422, 403, 403, 403, 403, 403, 403, 403, 403];
/// The centre admin's action succeeds (publish, close, submit a draft).
const PAGE_CA_DONE: [u16; 10] = [303, 303, 403, 403, 403, 403, 403, 403, 403, 403];
const API_CA_WRITE: [u16; 10] = [401, 422, 403, 403, 403, 403, 403, 403, 403, 403];
const API_CA_DONE: [u16; 10] = [401, 200, 403, 403, 403, 403, 403, 403, 403, 403];
const PAGE_INST: [u16; 10] = [303, 403, 403, 403, 403, 200, 200, 200, 403, 403];
const API_INST: [u16; 10] = [401, 403, 403, 403, 403, 200, 200, 200, 403, 403];
const PAGE_INST_FORM: [u16; 10] = [303, 403, 403, 403, 403, 422, 422, 422, 403, 403];
const API_INST_WRITE: [u16; 10] = [401, 403, 403, 403, 403, 422, 422, 422, 403, 403];
/// Acting on institution A's record: A may (and fails validation), B is refused (S6).
const PAGE_INST_A_FORM: [u16; 10] = [303, 403, 403, 403, 403, 422, 422, 403, 403, 403];
const API_INST_A_WRITE: [u16; 10] = [401, 403, 403, 403, 403, 422, 422, 403, 403, 403];
/// A withdraws its filing (then it is withdrawn: the staff member's try is 422); B is refused.
const PAGE_WITHDRAW_A: [u16; 10] = [303, 403, 403, 403, 403, 303, 422, 403, 403, 403];
const API_WITHDRAW_A: [u16; 10] = [401, 403, 403, 403, 403, 200, 422, 403, 403, 403];
/// The centre approves a filing holding a slot (then it is approved: the second try is 422).
const PAGE_APPROVE: [u16; 10] = [303, 303, 422, 403, 403, 403, 403, 403, 403, 403];
const API_APPROVE: [u16; 10] = [401, 200, 422, 403, 403, 403, 403, 403, 403, 403];
/// A supplements a package to its filing (issue 8): the fixture's filing already has one (409);
/// B and everyone else are refused.
const PAGE_SUPPLEMENT_A: [u16; 10] = [303, 403, 403, 403, 403, 409, 409, 403, 403, 403];
const PAGE_BUREAU_FORM: [u16; 10] = [303, 403, 403, 422, 403, 403, 403, 403, 403, 403];
const API_BUREAU_WRITE: [u16; 10] = [401, 403, 403, 422, 403, 403, 403, 403, 403, 403];
const BAD_PLAN: &str = r#"{"year":1,"total_classes":0,"budget":"0"}"#;
const BAD_ROUND: &str = r#"{"year":1,"half":"h1","base_planned":1,"window_start":"2026-03-01","window_end":"2026-03-31"}"#;
const BAD_APPLICATION: &str = r#"{"round_id":0,"occupations":[],"classes_requested":1}"#;
const BAD_PERFORMANCE: &str =
    r#"{"round_label":"","completed_on_time":1,"score":"90","evidence":""}"#;

// Policy versions (R-POL-1): the sysadmin proposes, the centre admin confirms, the centre,
// bureau and city read.
const PAGE_POLICY_READ: [u16; 10] = [303, 200, 200, 200, 200, 403, 403, 403, 403, 200];
const API_POLICY_READ: [u16; 10] = [401, 200, 200, 200, 200, 403, 403, 403, 403, 200];
const PAGE_SYSADMIN_FORM: [u16; 10] = [303, 403, 403, 403, 403, 403, 403, 403, 403, 422];
const API_SYSADMIN_WRITE: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 403, 403, 422];
/// Parses, but the version name is empty and the effective date long past.
const BAD_POLICY: &str = r#"{"policy":{"version":"","effective_from":"2020-01-01","global_cap_share":"0.5","score_bands":[{"min":"61","factor":"0.9"}],"major_factor":"1.1","major_projects":[],"growth_enabled":true,"min_class_size":20,"filing_lead_working_days":10,"class_window_days":30,"overdue_limit_per_year":3,"teacher_change_lead_working_days":1,"monthly_report_day":25,"evaluation_weights":{"task_completion":40,"supervision":20,"archives":20,"satisfaction":20},"certificate_district_code":"440105"},"document_title":""}"#;

#[rustfmt::skip]
const TABLE: &[Row] = &[
    row("GET", "/healthz", Call::Api, ALL_200),
    row("GET", "/metrics", Call::Api, ALL_200),
    row("GET", "/static/app.css", Call::Page, ALL_200),
    row("GET", "/api/openapi.json", Call::Api, ALL_200),
    row("GET", "/login", Call::Page, [200, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
    // No login-form token: refused for everyone (S19).
    row("POST", "/login", Call::Form(&[("username", "x"), ("password", "y")]), [403; 10]),
    row("POST", "/logout", Call::LogoutForm, [303; 10]),
    row("GET", "/account/password", Call::Page, PAGE_ANY_USER),
    row("POST", "/account/password", Call::Form(&[("current_password", "wrong-password")]), [303, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("POST", "/api/v1/auth/login", Call::ApiBody(r#"{"username":"nobody","password":"x"}"#), [401; 10]),
    row("POST", "/api/v1/auth/logout", Call::LogoutApi, [401, 204, 204, 204, 204, 204, 204, 204, 204, 204]),
    row("GET", "/api/v1/me", Call::Api, API_ANY_USER),
    row("POST", "/api/v1/auth/password", Call::ApiBody(r#"{"current_password":"wrong","new_password":"x"}"#), [401, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    // TOTP (S4). The harness's users are exempt and not enrolled: the second step has no
    // challenge (GET goes back to /login, or home when signed in), the forms and bodies fail
    // validation (wrong password, nothing pending, nothing to turn off).
    row("GET", "/login/totp", Call::Page, [303; 10]),
    row("POST", "/login/totp", Call::Form(&[("code", "000000")]), [403; 10]),
    row("POST", "/api/v1/auth/totp/verify", Call::ApiBody(r#"{"challenge":"x","code":"000000"}"#), [401; 10]),
    row("GET", "/account/totp", Call::Page, PAGE_ANY_USER),
    row("POST", "/account/totp/enrol", Call::Form(&[("password", "wrong-password")]), [303, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("POST", "/account/totp/confirm", Call::Form(&[("code", "000000")]), [303, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("POST", "/account/totp/disable", Call::Form(&[("password", "wrong-password"), ("code", "000000")]), [303, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("GET", "/api/v1/auth/totp/status", Call::Api, API_ANY_USER),
    row("POST", "/api/v1/auth/totp/enrol", Call::ApiBody(r#"{"password":"wrong-password"}"#), [401, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("POST", "/api/v1/auth/totp/confirm", Call::ApiBody(r#"{"code":"000000"}"#), [401, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("POST", "/api/v1/auth/totp/disable", Call::ApiBody(r#"{"password":"wrong-password","code":"000000"}"#), [401, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("GET", "/", Call::Page, PAGE_ANY_USER),
    row("GET", "/api/v1/institutions", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/institutions", Call::ApiBody(BAD_INSTITUTION), API_CENTRE_WRITE),
    row("GET", "/api/v1/institutions/{id}", Call::Api, API_READ_A),
    row("PUT", "/api/v1/institutions/{id}", Call::ApiBody(BAD_INSTITUTION), API_CENTRE_WRITE),
    row("GET", "/api/v1/institutions/{id}/teachers", Call::Api, API_READ_A),
    row("POST", "/api/v1/institutions/{id}/teachers", Call::ApiBody(BAD_TEACHER), API_TEACHERS_A_WRITE),
    row("GET", "/api/v1/teachers/{id}", Call::Api, API_READ_A),
    row("PUT", "/api/v1/teachers/{id}", Call::ApiBody(BAD_TEACHER), API_TEACHERS_A_WRITE),
    // An empty reason is refused after the permission checks.
    row("POST", "/api/v1/teachers/{id}/reveal", Call::ApiBody(r#"{"reason":""}"#), API_TEACHERS_A_WRITE),
    row("GET", "/institutions", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/institutions/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/institutions/new", Call::Page, PAGE_CENTRE),
    row("POST", "/institutions/new", Call::Form(&[("name", "")]), PAGE_CENTRE_FORM),
    row("GET", "/institutions/{id}", Call::Page, PAGE_READ_A),
    row("GET", "/institutions/{id}/edit", Call::Page, PAGE_CENTRE),
    row("POST", "/institutions/{id}/edit", Call::Form(&[("name", "")]), PAGE_CENTRE_FORM),
    row("GET", "/institutions/{id}/teachers", Call::Page, PAGE_READ_A),
    row("GET", "/institutions/{id}/teachers/export.xlsx", Call::Page, PAGE_READ_A),
    row("GET", "/institutions/{id}/teachers/new", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/institutions/{id}/teachers/new", Call::Form(&[("name", "")]), PAGE_TEACHERS_A_FORM),
    row("GET", "/teachers/{id}/edit", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/teachers/{id}/edit", Call::Form(&[("name", "")]), PAGE_TEACHERS_A_FORM),
    row("GET", "/teachers/{id}/reveal", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/teachers/{id}/reveal", Call::Form(&[("reason", "")]), PAGE_TEACHERS_A_FORM),
    // A trainee's full ID number (R-PII-1): the centre and the class's own institution.
    row("POST", "/api/v1/trainees/{id}/reveal", Call::ApiBody(r#"{"reason":""}"#), API_TEACHERS_A_WRITE),
    row("GET", "/trainees/{id}/reveal", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/trainees/{id}/reveal", Call::Form(&[("reason", "")]), PAGE_TEACHERS_A_FORM),
    // The holiday calendar (R-CAL-1): read by everyone signed in, loaded by the sysadmin. An empty
    // file previews with its problem (200) and is refused on import (422).
    row("GET", "/api/v1/calendar/years", Call::Api, API_ANY_USER),
    row("GET", "/api/v1/calendar/years/{year}", Call::Api, API_ANY_USER),
    row("POST", "/api/v1/calendar/preview", Call::ApiBody(r#"{"toml":""}"#), API_SYSADMIN),
    row("POST", "/api/v1/calendar/import", Call::ApiBody(r#"{"toml":""}"#), [401, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("GET", "/calendar", Call::Page, PAGE_ANY_USER),
    row("GET", "/calendar/import", Call::Page, PAGE_SYSADMIN),
    row("POST", "/calendar/import", Call::Form(&[]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 400]),
    row("GET", "/api/v1/users", Call::Api, API_SYSADMIN),
    row("POST", "/api/v1/users", Call::ApiBody(r#"{"username":"","role":"nope"}"#), [401, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("POST", "/api/v1/users/{id}/active", Call::ApiBody(r#"{"active":true}"#), API_SYSADMIN),
    row("POST", "/api/v1/users/{id}/reset-password", Call::ApiBody(r#"{"reason":""}"#), [401, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    // Two-person credential issue (S7); `{id}` is a request that does not exist.
    row("GET", "/api/v1/credential-requests", Call::Api, [401, 200, 403, 403, 403, 200, 403, 200, 403, 200]),
    row("GET", "/api/v1/credential-requests/{id}", Call::Api, [401, 404, 403, 403, 403, 404, 403, 404, 403, 404]),
    row("POST", "/api/v1/credential-requests/{id}/confirm", Call::ApiBody("{}"), [401, 404, 403, 403, 403, 404, 403, 404, 403, 403]),
    row("POST", "/api/v1/credential-requests/{id}/cancel", Call::ApiBody("{}"), [401, 404, 403, 403, 403, 404, 403, 404, 403, 404]),
    row("GET", "/credential-requests", Call::Page, [303, 200, 403, 403, 403, 200, 403, 200, 403, 200]),
    row("POST", "/credential-requests/{id}/confirm", Call::Form(&[]), [303, 404, 403, 403, 403, 404, 403, 404, 403, 403]),
    row("POST", "/credential-requests/{id}/cancel", Call::Form(&[]), [303, 404, 403, 403, 403, 404, 403, 404, 403, 404]),
    row("GET", "/users/{id}/reset-password", Call::Page, PAGE_SYSADMIN),
    row("GET", "/users", Call::Page, PAGE_SYSADMIN),
    row("GET", "/users/export.xlsx", Call::Page, PAGE_SYSADMIN),
    row("GET", "/users/new", Call::Page, PAGE_SYSADMIN),
    row("POST", "/users/new", Call::Form(&[("username", "")]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("POST", "/users/{id}/active", Call::Form(&[("active", "1")]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 303]),
    row("POST", "/users/{id}/reset-password", Call::Form(&[]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    // plans and rounds, caps and agreements, the quota queue, bulletin, calculator, inbox (API)
    row("GET", "/api/v1/plans", Call::Api, API_PLAN_READ),
    row("POST", "/api/v1/plans", Call::ApiBody(BAD_PLAN), API_CA_WRITE),
    row("GET", "/api/v1/plans/{id}", Call::Api, API_PLAN_READ),
    row("PUT", "/api/v1/plans/{id}", Call::ApiBody(BAD_PLAN), API_CA_WRITE),
    row("POST", "/api/v1/plans/{id}/submit", Call::Api, API_CA_DONE),
    row("POST", "/api/v1/plans/{id}/decision", Call::ApiBody(r#"{"decision":"return","comment":""}"#), API_BUREAU_WRITE),
    row("GET", "/api/v1/rounds", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/rounds", Call::ApiBody(BAD_ROUND), API_CA_WRITE),
    row("GET", "/api/v1/rounds/{id}", Call::Api, API_BUSINESS_LIST),
    row("PUT", "/api/v1/rounds/{id}", Call::ApiBody(BAD_ROUND), API_CA_WRITE),
    row("POST", "/api/v1/rounds/{id}/publish", Call::Api, API_CA_DONE),
    row("POST", "/api/v1/rounds/{id}/close", Call::Api, API_CA_DONE),
    row("GET", "/api/v1/rounds/{id}/history", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/rounds/{id}/applications", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/rounds/{id}/agreements", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/rounds/{id}/filings", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/rounds/{id}/bulletin", Call::Api, ALL_200),
    row("GET", "/api/v1/bulletin", Call::Api, ALL_200),
    row("POST", "/api/v1/applications", Call::ApiBody(BAD_APPLICATION), API_INST_WRITE),
    row("GET", "/api/v1/applications/{id}", Call::Api, API_READ_A),
    row("GET", "/api/v1/applications/{id}/cap", Call::Api, API_PLAN_READ),
    row("POST", "/api/v1/agreements", Call::ApiBody(r#"{"application_id":0}"#), [401, 404, 403, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/api/v1/agreements/{id}", Call::Api, API_READ_A),
    row("POST", "/api/v1/agreements/{id}/override", Call::ApiBody(r#"{"cap":1,"reason":""}"#), API_CA_WRITE),
    row("POST", "/api/v1/agreements/{id}/terminate", Call::ApiBody(r#"{"cause":"x","reason":""}"#), API_CA_WRITE),
    row("GET", "/api/v1/institutions/{id}/performance", Call::Api, API_READ_A),
    row("POST", "/api/v1/institutions/{id}/performance", Call::ApiBody(BAD_PERFORMANCE), API_CA_WRITE),
    row("GET", "/api/v1/filings/{id}", Call::Api, API_READ_A),
    row("POST", "/api/v1/filings/{id}/withdraw", Call::Api, API_WITHDRAW_A),
    row("POST", "/api/v1/filings/{id}/resubmit", Call::Api, API_INST_A_WRITE),
    row("POST", "/api/v1/filings/{id}/return", Call::ApiBody(r#"{"items":[]}"#), API_CENTRE_WRITE),
    row("POST", "/api/v1/filings/{id}/reject", Call::ApiBody(r#"{"reason":""}"#), API_CENTRE_WRITE),
    row("POST", "/api/v1/filings/{id}/approve", Call::Api, API_APPROVE),
    row("POST", "/api/v1/tools/cap", Call::ApiBody("{}"), API_CENTRE_WRITE),
    row("GET", "/api/v1/inbox", Call::Api, API_INST),
    // the same, as pages
    row("GET", "/plans", Call::Page, PAGE_PLAN_READ),
    row("GET", "/plans/new", Call::Page, PAGE_CA),
    row("POST", "/plans/new", Call::Form(&[("year", "")]), PAGE_CA_FORM),
    row("GET", "/plans/{id}", Call::Page, PAGE_PLAN_READ),
    row("GET", "/plans/{id}/edit", Call::Page, PAGE_CA),
    row("POST", "/plans/{id}/edit", Call::Form(&[("year", "")]), PAGE_CA_FORM),
    row("POST", "/plans/{id}/submit", Call::Form(&[]), PAGE_CA_DONE),
    row("POST", "/plans/{id}/decide", Call::Form(&[]), PAGE_BUREAU_FORM),
    row("GET", "/rounds", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/rounds/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/rounds/new", Call::Page, PAGE_CA),
    row("POST", "/rounds/new", Call::Form(&[("year", "")]), PAGE_CA_FORM),
    row("GET", "/rounds/{id}", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/rounds/{id}/edit", Call::Page, PAGE_CA),
    row("POST", "/rounds/{id}/edit", Call::Form(&[("year", "")]), PAGE_CA_FORM),
    row("POST", "/rounds/{id}/publish", Call::Form(&[]), PAGE_CA_DONE),
    row("POST", "/rounds/{id}/close", Call::Form(&[("confirm", "1")]), PAGE_CA_DONE),
    row("GET", "/rounds/{id}/apply", Call::Page, PAGE_INST),
    row("POST", "/rounds/{id}/apply", Call::Form(&[]), PAGE_INST_FORM),
    row("GET", "/rounds/{id}/applications", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/rounds/{id}/applications/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/rounds/{id}/filings", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/rounds/{id}/filings/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/applications/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/applications/{id}/sign", Call::Form(&[("override_reason", "x")]), PAGE_CA_FORM),
    row("POST", "/applications/{id}/performance", Call::Form(&[]), PAGE_CA_FORM),
    row("GET", "/agreements/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/agreements/{id}/override", Call::Form(&[]), PAGE_CA_FORM),
    row("POST", "/agreements/{id}/terminate", Call::Form(&[]), PAGE_CA_FORM),
    row("GET", "/filings/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/filings/{id}/withdraw", Call::Form(&[]), PAGE_WITHDRAW_A),
    row("POST", "/filings/{id}/resubmit", Call::Form(&[]), PAGE_INST_A_FORM),
    row("POST", "/filings/{id}/return", Call::Form(&[]), PAGE_CENTRE_FORM),
    row("POST", "/filings/{id}/reject", Call::Form(&[]), PAGE_CENTRE_FORM),
    row("POST", "/filings/{id}/approve", Call::Form(&[]), PAGE_APPROVE),
    row("POST", "/filings/{id}/supplement", Call::Form(&[]), PAGE_SUPPLEMENT_A),
    row("GET", "/bulletin", Call::Page, ALL_200),
    row("GET", "/bulletin/rounds/{id}", Call::Page, ALL_200),
    row("GET", "/bulletin/rounds/{id}/export.xlsx", Call::Page, ALL_200),
    row("GET", "/tools/cap", Call::Page, PAGE_CENTRE),
    row("GET", "/inbox", Call::Page, PAGE_INST),
    row("POST", "/inbox/{id}/read", Call::Form(&[]), [303, 403, 403, 403, 403, 303, 303, 403, 403, 403]),
    // issue 5: the filing package, roster, review queue, requests (S6: B gets 403 / 404)
    row("GET", "/api/v1/packages", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/packages", Call::ApiBody(r#"{"agreement_id":0}"#), [401, 403, 403, 403, 403, 404, 404, 404, 403, 403]),
    row("GET", "/api/v1/packages/{id}", Call::Api, API_READ_A),
    row("PUT", "/api/v1/packages/{id}", Call::ApiBody(r#"{"hours":"-1"}"#), API_INST_A_WRITE),
    row("GET", "/api/v1/packages/{id}/problems", Call::Api, API_READ_A),
    row("POST", "/api/v1/packages/{id}/submit", Call::Api, API_INST_A_WRITE),
    row("POST", "/api/v1/packages/{id}/files/{kind}", Call::Api, API_INST_A_WRITE),
    row("GET", "/api/v1/packages/{id}/files/{kind}", Call::Api, [401, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    row("POST", "/api/v1/packages/{id}/roster", Call::Api, API_INST_A_WRITE),
    row("GET", "/api/v1/packages/{id}/roster", Call::Api, API_READ_A),
    row("GET", "/api/v1/roster-template.xlsx", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/roster-template.csv", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/review", Call::Api, [401, 200, 200, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/api/v1/filings/{id}/roster-change/approve", Call::Api, API_CENTRE_WRITE),
    row("POST", "/api/v1/filings/{id}/roster-change/reject", Call::ApiBody(r#"{"reason":""}"#), API_CENTRE_WRITE),
    row("GET", "/api/v1/requests", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/requests", Call::ApiBody(r#"{"kind":"address","address":"","reason":""}"#), API_INST_WRITE),
    row("GET", "/api/v1/requests/{id}", Call::Api, API_READ_A),
    row("POST", "/api/v1/requests/{id}/evidence/{kind}", Call::Api, API_INST_A_WRITE),
    row("POST", "/api/v1/requests/{id}/notes", Call::ApiBody(r#"{"notes":{"bogus":"x"}}"#), API_INST_A_WRITE),
    row("GET", "/api/v1/requests/{id}/evidence/{kind}", Call::Api, [401, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    row("POST", "/api/v1/requests/{id}/refuse", Call::ApiBody(r#"{"reason":""}"#), API_CENTRE_WRITE),
    row("POST", "/api/v1/requests/{id}/approve", Call::Api, API_APPROVE),
    // issue 5 pages: the filing package, review queue, requests (S6: B gets 403 / 404)
    row("GET", "/packages", Call::Page, PAGE_BUSINESS_LIST),
    row("POST", "/agreements/{id}/packages", Call::Form(&[]), [303, 403, 403, 403, 403, 303, 303, 403, 403, 403]),
    row("GET", "/packages/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/packages/{id}", Call::Form(&[("hours", "x")]), PAGE_INST_A_FORM),
    row("POST", "/packages/{id}/files", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
    row("GET", "/packages/{id}/files/{kind}", Call::Page, [303, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    row("POST", "/packages/{id}/roster", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
    row("POST", "/packages/{id}/submit", Call::Form(&[]), PAGE_INST_A_FORM),
    row("POST", "/packages/{id}/return", Call::Form(&[]), PAGE_CENTRE_FORM),
    // A's issue-4 filing has no package: 404 for every reader.
    // Every filing has a package now (issue 8): readers are sent to it, B is refused (S6).
    row("GET", "/filings/{id}/package", Call::Page, [303, 303, 303, 303, 303, 303, 303, 403, 403, 403]),
    row("GET", "/roster-template.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/roster-template.csv", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/review", Call::Page, PAGE_CENTRE),
    row("GET", "/review/export.xlsx", Call::Page, PAGE_CENTRE),
    row("POST", "/filings/{id}/roster-change/approve", Call::Form(&[]), PAGE_CENTRE_FORM),
    row("POST", "/filings/{id}/roster-change/reject", Call::Form(&[]), PAGE_CENTRE_FORM),
    row("GET", "/requests", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/requests/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/requests/new", Call::Page, PAGE_INST),
    row("POST", "/requests/new", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 400, 403, 403]),
    row("GET", "/requests/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/requests/{id}/evidence", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
    row("GET", "/requests/{id}/evidence/{kind}", Call::Page, [303, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    // The API row approved it already: both centre calls find it decided.
    row("POST", "/requests/{id}/approve", Call::Form(&[]), PAGE_CENTRE_FORM),
    row("POST", "/requests/{id}/refuse", Call::Form(&[]), PAGE_CENTRE_FORM),
    // policy versions (R-POL-1): {id} is the built-in version, already confirmed — the
    // centre admin's confirm/reject and the sysadmin's withdraw find it decided (422)
    row("GET", "/api/v1/policies", Call::Api, API_POLICY_READ),
    row("POST", "/api/v1/policies", Call::ApiBody(BAD_POLICY), API_SYSADMIN_WRITE),
    row("GET", "/api/v1/policies/compare", Call::Api, API_POLICY_READ),
    row("GET", "/api/v1/policies/{id}", Call::Api, API_POLICY_READ),
    row("POST", "/api/v1/policies/{id}/confirm", Call::ApiBody("{}"), API_CA_WRITE),
    row("POST", "/api/v1/policies/{id}/reject", Call::ApiBody(r#"{"reason":"x"}"#), API_CA_WRITE),
    row("POST", "/api/v1/policies/{id}/withdraw", Call::ApiBody("{}"), API_SYSADMIN_WRITE),
    row("GET", "/policies", Call::Page, PAGE_POLICY_READ),
    row("GET", "/policies/new", Call::Page, PAGE_SYSADMIN),
    row("POST", "/policies/new", Call::Form(&[]), PAGE_SYSADMIN_FORM),
    row("GET", "/policies/compare", Call::Page, PAGE_POLICY_READ),
    row("GET", "/policies/{id}", Call::Page, PAGE_POLICY_READ),
    row("POST", "/policies/{id}/confirm", Call::Form(&[]), PAGE_CA_FORM),
    row("POST", "/policies/{id}/reject", Call::Form(&[("reason", "x")]), PAGE_CA_FORM),
    row("POST", "/policies/{id}/withdraw", Call::Form(&[]), PAGE_SYSADMIN_FORM),
    // background jobs (sysadmin): the fixture's id is no job run (404); a re-run without a
    // reason fails validation (422)
    row("GET", "/api/v1/admin/jobs", Call::Api, API_SYSADMIN),
    row("POST", "/api/v1/admin/jobs/runs/{id}/release", Call::ApiBody("{}"), [401, 403, 403, 403, 403, 403, 403, 403, 403, 404]),
    row("POST", "/api/v1/admin/jobs/{job}/rerun", Call::ApiBody(r#"{"period":"2026-03-02","reason":""}"#), [401, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("GET", "/admin/jobs", Call::Page, PAGE_SYSADMIN),
    row("POST", "/admin/jobs/runs/{id}/release", Call::Form(&[]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 404]),
    row("POST", "/admin/jobs/{job}/rerun", Call::Form(&[("period", "2026-03-02")]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("GET", "/api/v1/audit", Call::Api, API_AUDITOR),
    row("GET", "/audit", Call::Page, PAGE_AUDITOR),
    row("GET", "/audit/export.xlsx", Call::Page, PAGE_AUDITOR),
    // running a class, reports, inspections, overdue and sanctions, the work list (issue 5 items
    // 5–7): A's records; B is refused (S6); writes fail validation for the allowed roles
    row("GET", "/api/v1/classes", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/classes/{id}", Call::Api, API_READ_A),
    row("POST", "/api/v1/classes/{id}/start", Call::ApiBody("{}"), API_INST_A_WRITE),
    row("POST", "/api/v1/classes/{id}/complete-training", Call::ApiBody(r#"{"on":"2026-03-01"}"#), API_INST_A_WRITE),
    row("POST", "/api/v1/classes/{id}/complete-exam", Call::ApiBody(r#"{"on":"2026-03-01"}"#), API_INST_A_WRITE),
    row("POST", "/api/v1/classes/{id}/teacher-changes", Call::ApiBody(r#"{"new_teacher_id":0,"effective_on":"2026-03-10"}"#), API_INST_A_WRITE),
    row("POST", "/api/v1/classes/{id}/attendance", Call::ApiBody(r#"{"session_date":"2026-03-01","session_label":""}"#), API_INST_A_WRITE),
    row("GET", "/api/v1/classes/{id}/attendance", Call::Api, API_READ_A),
    row("GET", "/api/v1/teacher-changes", Call::Api, API_BUSINESS_LIST),
    // The first call acknowledges; the second finds it done (409).
    row("POST", "/api/v1/teacher-changes/{id}/acknowledge", Call::ApiBody("{}"), [401, 200, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/api/v1/reports", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/reports", Call::ApiBody(r#"{"year":2026,"month":5,"classes_run":1,"trainees":1,"exams":0}"#), API_INST_WRITE),
    row("GET", "/api/v1/reports/status", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/reports/{id}", Call::Api, API_READ_A),
    row("GET", "/api/v1/inspections", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/inspections", Call::ApiBody(r#"{"filing_id":0,"inspected_on":"2026-03-01","kind":"on_site","findings":""}"#), API_CENTRE_WRITE),
    row("GET", "/api/v1/inspections/{id}", Call::Api, API_READ_A),
    row("POST", "/api/v1/inspections/{id}/rectify", Call::ApiBody(r#"{"note":""}"#), API_INST_A_WRITE),
    row("POST", "/api/v1/inspections/{id}/close", Call::ApiBody(r#"{"note":""}"#), API_CENTRE_WRITE),
    row("GET", "/api/v1/sanctions", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/sanctions/{id}", Call::Api, API_READ_A),
    // The fixture's sanction is already dismissed: confirming or dismissing it is refused.
    row("POST", "/api/v1/sanctions/{id}/confirm", Call::ApiBody("{}"), API_CA_WRITE),
    row("POST", "/api/v1/sanctions/{id}/dismiss", Call::ApiBody(r#"{"reason":"x"}"#), API_CA_WRITE),
    row("POST", "/api/v1/class-flags/{id}/decide", Call::ApiBody(r#"{"decision":"continue","reason":""}"#), API_CA_WRITE),
    row("GET", "/api/v1/overdue", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/overdue/sweep", Call::ApiBody("{}"), API_CA_DONE),
    row("GET", "/api/v1/worklist", Call::Api, API_BUSINESS_LIST),
    row("GET", "/classes", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/classes/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/classes/{id}/start", Call::Form(&[]), PAGE_INST_A_FORM),
    row("POST", "/classes/{id}/complete-training", Call::Form(&[("on", "")]), PAGE_INST_A_FORM),
    row("POST", "/classes/{id}/complete-exam", Call::Form(&[("on", "")]), PAGE_INST_A_FORM),
    row("POST", "/classes/{id}/teacher-change", Call::Form(&[]), PAGE_INST_A_FORM),
    row("POST", "/classes/{id}/attendance", Call::Form(&[]), PAGE_INST_A_FORM),
    row("POST", "/classes/{id}/inspections", Call::Form(&[]), PAGE_CENTRE_FORM),
    // The class archive (R-ARC-1/2): the fixture's class is approved, not yet trained — A's
    // uploads are refused by state (409), B's by S6 (403); 归档 is refused below 100 % (409).
    row("GET", "/api/v1/classes/{id}/archive", Call::Api, API_READ_A),
    row("POST", "/api/v1/classes/{id}/archive/documents", Call::Api, [401, 403, 403, 403, 403, 409, 409, 403, 403, 403]),
    row("POST", "/api/v1/classes/{id}/archive/zip", Call::Api, [401, 403, 403, 403, 403, 409, 409, 403, 403, 403]),
    row("GET", "/api/v1/classes/{id}/archive/download", Call::Api, API_READ_A),
    row("POST", "/api/v1/classes/{id}/archive/mark-archived", Call::ApiBody("{}"), [401, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/api/v1/archive-documents/{id}", Call::Api, [401, 404, 404, 404, 404, 404, 404, 404, 403, 403]),
    row("GET", "/classes/{id}/archive", Call::Page, PAGE_READ_A),
    row("POST", "/classes/{id}/archive/upload", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
    row("POST", "/classes/{id}/archive/zip", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
    row("GET", "/classes/{id}/archive/download", Call::Page, PAGE_READ_A),
    row("POST", "/classes/{id}/archive/mark-archived", Call::Form(&[]), [303, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/archive-documents/{id}", Call::Page, [303, 404, 404, 404, 404, 404, 404, 404, 403, 403]),
    row("GET", "/teacher-changes", Call::Page, PAGE_BUSINESS_LIST),
    row("POST", "/teacher-changes/{id}/acknowledge", Call::Form(&[]), [303, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/reports", Call::Page, PAGE_BUSINESS_LIST),
    row("POST", "/reports", Call::Form(&[]), PAGE_INST_FORM),
    row("GET", "/reports/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/inspections", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/inspections/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/inspections/{id}", Call::Page, PAGE_READ_A),
    row("POST", "/inspections/{id}/rectify", Call::Form(&[]), PAGE_INST_A_FORM),
    row("POST", "/inspections/{id}/close", Call::Form(&[]), PAGE_CENTRE_FORM),
    // R-RUN-4 photos: a plain form is not an upload (400); the fixture's inspection has no photo.
    row("POST", "/inspections/{id}/photos", Call::Form(&[]), [303, 400, 400, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/inspections/{id}/photos/{file_id}", Call::Page, [303, 404, 404, 404, 404, 404, 404, 404, 403, 403]),
    row("GET", "/progress", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/sanctions", Call::Page, PAGE_BUSINESS_LIST),
    row("POST", "/sanctions/{id}/confirm", Call::Form(&[]), PAGE_CA_FORM),
    row("POST", "/sanctions/{id}/dismiss", Call::Form(&[("reason", "x")]), PAGE_CA_FORM),
    row("POST", "/class-flags/{id}/decide", Call::Form(&[]), PAGE_CA_FORM),
    row("GET", "/overdue", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/overdue/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("POST", "/overdue/sweep", Call::Form(&[]), PAGE_CA_DONE),
    // Exam results and certificate codes (R-CRT-1): the centre and the class's institution read
    // them (not B, S6; not the bureau or the city); the fixture's class is approved, not yet
    // trained, so entering (409), importing a non-spreadsheet (422) and confirming (409) are
    // refused; revoking an unknown code is 404. Verification is public (R-CRT-2).
    row("GET", "/api/v1/classes/{id}/results", Call::Api, API_RESULTS_READ_A),
    row("PUT", "/api/v1/classes/{id}/results", Call::ApiBody(r#"{"rows":[]}"#), [401, 403, 403, 403, 403, 409, 409, 403, 403, 403]),
    row("POST", "/api/v1/classes/{id}/results/import", Call::ApiBody("{}"), [401, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    row("POST", "/api/v1/classes/{id}/results/confirm", Call::ApiBody("{}"), [401, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/api/v1/classes/{id}/certificates", Call::Api, API_RESULTS_READ_A),
    row("POST", "/api/v1/certificates/revoke", Call::ApiBody(r#"{"code":"44010520269999001","reason":"x"}"#), [401, 404, 403, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/api/v1/certificates/verify", Call::Api, [404; 10]),
    // The register: every institution reads its own (B included).
    row("GET", "/api/v1/certificates", Call::Api, [401, 200, 200, 403, 403, 200, 200, 200, 403, 403]),
    // Evaluations (R-EVA-1): `{id}` is A's confirmed evaluation (B gets 404, S6; changes 409);
    // the fixture's agreement already has one, so opening another is refused (409).
    row("GET", "/api/v1/evaluations", Call::Api, API_BUSINESS_LIST),
    row("GET", "/api/v1/evaluations/{id}", Call::Api, [401, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    row("POST", "/api/v1/agreements/{id}/evaluation", Call::ApiBody("{}"), [401, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/api/v1/evaluations/{id}/adjustments", Call::ApiBody(r#"{"component":"archives","value":"90","reason":"x"}"#), [401, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/api/v1/evaluations/{id}/recompute", Call::ApiBody("{}"), [401, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/api/v1/evaluations/{id}/confirm", Call::ApiBody("{}"), [401, 409, 403, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/evaluations", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/evaluations/{id}", Call::Page, [303, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    row("POST", "/agreements/{id}/evaluation", Call::Form(&[]), [303, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/evaluations/{id}/recompute", Call::Form(&[]), [303, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/evaluations/{id}/adjust", Call::Form(&[("component", "archives"), ("value", "90"), ("reason", "x")]), [303, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/evaluations/{id}/confirm", Call::Form(&[]), [303, 409, 403, 403, 403, 403, 403, 403, 403, 403]),

    row("GET", "/classes/{id}/results", Call::Page, PAGE_RESULTS_READ_A),
    row("POST", "/classes/{id}/results", Call::Form(&[]), [303, 403, 403, 403, 403, 409, 409, 403, 403, 403]),
    row("POST", "/classes/{id}/results/import", Call::Form(&[]), [303, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
    row("POST", "/classes/{id}/results/confirm", Call::Form(&[]), [303, 409, 409, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/classes/{id}/certificates", Call::Page, PAGE_RESULTS_READ_A),
    row("GET", "/classes/{id}/certificates/export.xlsx", Call::Page, PAGE_RESULTS_READ_A),
    row("POST", "/certificates/revoke", Call::Form(&[("code", "44010520269999001"), ("reason", "x"), ("filing_id", "1")]), [303, 404, 403, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/certificates", Call::Page, [303, 200, 200, 403, 403, 200, 200, 200, 403, 403]),
    row("GET", "/certificates/export.xlsx", Call::Page, [303, 200, 200, 403, 403, 200, 200, 200, 403, 403]),
    row("GET", "/results-template.csv", Call::Page, [303, 200, 200, 403, 403, 200, 200, 200, 403, 403]),
    row("GET", "/verify", Call::Page, [200; 10]),
    // Trainee satisfaction survey (R-EVA-3): the link is public (an unknown token is 404; a
    // post without the form's cookie token is refused, S19); the class's counts for the centre,
    // bureau, city and A (B gets 404, S6); the QR code for the centre and A; the round's page
    // for the centre, bureau and city; the centre writes.
    row("GET", "/s/{token}", Call::Page, [404; 10]),
    row("POST", "/s/{token}", Call::Form(&[]), [403; 10]),
    row("GET", "/s/{token}/thanks", Call::Page, [404; 10]),
    row("GET", "/classes/{id}/survey/qr.svg", Call::Page, [303, 200, 200, 403, 403, 200, 200, 404, 403, 403]),
    row("POST", "/classes/{id}/survey/closing", Call::Form(&[("closes_on", "x")]), [303, 422, 422, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/rounds/{id}/survey", Call::Page, PAGE_PLAN_READ),
    row("POST", "/rounds/{id}/survey", Call::Form(&[]), PAGE_CENTRE_FORM),
    row("GET", "/api/v1/surveys/classes/{id}", Call::Api, [401, 200, 200, 200, 200, 200, 200, 404, 403, 403]),
    row("PUT", "/api/v1/surveys/classes/{id}/closing", Call::ApiBody(r#"{"closes_on":"2020-01-01"}"#), API_CENTRE_WRITE),
    row("GET", "/api/v1/surveys/rounds/{id}", Call::Api, API_PLAN_READ),
    row("GET", "/api/v1/surveys/rounds/{id}/questionnaire", Call::Api, API_PLAN_READ),
    row("PUT", "/api/v1/surveys/rounds/{id}/questionnaire", Call::ApiBody(r#"{"questions":[]}"#), API_CENTRE_WRITE),
    row("GET", "/api/v1/surveys/{token}", Call::Api, [404; 10]),
    row("POST", "/api/v1/surveys/{token}/responses", Call::ApiBody(r#"{"name":"x","id_last4":"1234","answers":{}}"#), [404; 10]),
    // Violations (R-VIO-1/2): the fixture's violation is against A, recorded by centre_staff and
    // not confirmed, so no institution sees it (404, S6); a centre_admin other than the recorder
    // decides (here: refused for the missing checkbox / reason, 422, nothing changes).
    row("GET", "/api/v1/violations", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/violations", Call::ApiBody(r#"{"institution_id":0,"kind":"other","facts":"","no_classes":true}"#), API_CENTRE_WRITE),
    row("GET", "/api/v1/violations/{id}", Call::Api, [401, 200, 200, 200, 200, 404, 404, 404, 403, 403]),
    row("GET", "/api/v1/violations/{id}/preview", Call::Api, [401, 200, 200, 403, 403, 403, 403, 403, 403, 403]),
    row("POST", "/api/v1/violations/{id}/confirm", Call::ApiBody(r#"{"acknowledge":false}"#), API_CA_WRITE),
    row("POST", "/api/v1/violations/{id}/dismiss", Call::ApiBody(r#"{"reason":"","acknowledge":true}"#), API_CA_WRITE),
    row("GET", "/violations", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/violations/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/violations/new", Call::Page, PAGE_CENTRE),
    // A plain form is not an upload (400).
    row("POST", "/violations", Call::Form(&[]), [303, 400, 400, 403, 403, 403, 403, 403, 403, 403]),
    row("GET", "/violations/{id}", Call::Page, [303, 200, 200, 200, 200, 404, 404, 404, 403, 403]),
    row("POST", "/violations/{id}/confirm", Call::Form(&[]), PAGE_CA_FORM),
    row("POST", "/violations/{id}/dismiss", Call::Form(&[("acknowledge", "1")]), PAGE_CA_FORM),
    row("GET", "/violations/{id}/evidence/{file_id}", Call::Page, [303, 404, 404, 404, 404, 404, 404, 404, 403, 403]),
    // The round's evaluation report (R-EVA-2): the centre, the bureau and the city; an
    // institution gets 404 (not its record).
    row("GET", "/rounds/{id}/evaluations/chart", Call::Page, PAGE_EVAL_REPORT),
    row("GET", "/rounds/{id}/evaluations/report.docx", Call::Page, PAGE_EVAL_REPORT),
    row("GET", "/rounds/{id}/evaluations/report.xlsx", Call::Page, PAGE_EVAL_REPORT),
    row("GET", "/api/v1/rounds/{id}/evaluations/report.docx", Call::Api, API_EVAL_REPORT),
    row("GET", "/api/v1/rounds/{id}/evaluations/report.xlsx", Call::Api, API_EVAL_REPORT),
];

const PAGE_EVAL_REPORT: [u16; 10] = [303, 200, 200, 200, 200, 404, 404, 404, 403, 403];
const API_EVAL_REPORT: [u16; 10] = [401, 200, 200, 200, 200, 404, 404, 404, 403, 403];

const API_RESULTS_READ_A: [u16; 10] = [401, 200, 200, 403, 403, 200, 200, 403, 403, 403];
const PAGE_RESULTS_READ_A: [u16; 10] = [303, 200, 200, 403, 403, 200, 200, 403, 403, 403];

#[test]
fn s5_every_registered_route_has_a_row_and_every_row_a_route() {
    let registered: BTreeSet<(String, String)> = peixun_server::routes::registered_routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let tested: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = registered.difference(&tested).collect();
    let stale: Vec<_> = tested.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the S5 table: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows for routes that do not exist: {stale:?}"
    );
    // And the server's own access table covers exactly the registered routes.
    let declared: BTreeSet<(String, String)> = peixun_server::routes::ROUTES
        .iter()
        .map(|d| (d.method.to_string(), d.path.to_string()))
        .collect();
    assert_eq!(
        declared, registered,
        "routes::ROUTES and the router disagree"
    );
}

fn concrete(
    app: &TestApp,
    fx: &crate::rounds::Fixture,
    rf: &crate::running::RunFixture,
    pk: &crate::filing_package::Fixture,
    violation: i64,
    path: &str,
) -> String {
    if let Some(p) = pk.path_for(path) {
        return p;
    }
    // The survey (R-EVA-3): A's running class, the fixture's round, an unknown link.
    if path.contains("{token}") {
        return path.replace("{token}", &"0".repeat(32));
    }
    if path.starts_with("/api/v1/surveys/classes/") {
        return path.replace("{id}", &rf.id_for("/classes/{id}").unwrap_or(0).to_string());
    }
    if path.starts_with("/api/v1/surveys/rounds/") {
        return path.replace("{id}", &fx.id_for("/rounds/{id}").unwrap_or(0).to_string());
    }
    if path.starts_with("/violations/{id}") || path.starts_with("/api/v1/violations/{id}") {
        return path
            .replace("{id}", &violation.to_string())
            .replace("{file_id}", &"0".repeat(32));
    }
    if path.contains("/credential-requests/{id}") {
        return path.replace("{id}", "999999");
    }
    // Policy versions: the built-in version (id 1); compare it with itself.
    if path.ends_with("/policies/compare") {
        return format!("{path}?a=1&b=1");
    }
    if path.contains("/policies/{id}") {
        return path.replace("{id}", "1");
    }
    let id = if let Some(id) = fx.id_for(path) {
        id
    } else if let Some(id) = rf.id_for(path) {
        id
    } else if path.starts_with("/teachers/") || path.starts_with("/api/v1/teachers/") {
        app.teacher_a
    } else if path.starts_with("/users/") || path.starts_with("/api/v1/users/") {
        app.spare_user
    } else {
        app.inst_a
    };
    path.replace("{id}", &id.to_string())
        .replace("{year}", "2026")
        .replace("{job}", "overdue_sweep")
}

async fn role_route_table(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let fx = crate::rounds::Fixture::new(&app).await;
    let rf = crate::running::RunFixture::new(&app).await;
    let pk = crate::filing_package::Fixture::new(&app).await;
    let violation = crate::violations::recorded(&app, vec![]).await;
    let mut mismatches = Vec::new();
    for r in TABLE {
        let path = concrete(&app, &fx, &rf, &pk, violation, r.path);
        let method: Method = r.method.parse().expect("method");
        for (i, who) in Who::ALL.into_iter().enumerate() {
            let resp = match r.call {
                Call::Page => app.get(&path, who).await,
                Call::Api => app.api(method.clone(), &path, who, None).await,
                Call::ApiBody(body) => {
                    let v: serde_json::Value = serde_json::from_str(body).expect("json");
                    app.api(method.clone(), &path, who, Some(v)).await
                }
                Call::Form(fields) => app.post_form(&path, who, fields).await,
                Call::LogoutForm => {
                    if who == Who::Anonymous {
                        app.post_form(&path, who, &[]).await
                    } else {
                        let s = app.fresh_session(who).await;
                        app.post_form_raw(&path, Some(&s.token), &[("csrf_token", &s.csrf)], &[])
                            .await
                    }
                }
                Call::LogoutApi => {
                    let token = if who == Who::Anonymous {
                        None
                    } else {
                        Some(app.fresh_session(who).await.token)
                    };
                    let mut b = axum::http::Request::builder()
                        .method(Method::POST)
                        .uri(&path);
                    if let Some(t) = token {
                        b = b.header("authorization", format!("Bearer {t}"));
                    }
                    app.send(b.body(axum::body::Body::empty()).expect("req"))
                        .await
                }
            };
            if resp.status.as_u16() != r.expect[i] {
                mismatches.push(format!(
                    "{} {} as {:?}: expected {}, got {} {}",
                    r.method,
                    r.path,
                    who,
                    r.expect[i],
                    resp.status.as_u16(),
                    resp.text().chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

both_backends!(role_route_table);

/// S18, issue "hostile input never reaches a panic": every GET route of the router, as the
/// centre admin and as institution A, with out-of-range numbers in the query (page, per_page,
/// ids) and in the path ids. No answer is a 5xx; a list's page number out of range is a 422
/// naming the field.
async fn s18_every_get_route_survives_hostile_numbers(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let fx = crate::rounds::Fixture::new(&app).await;
    let rf = crate::running::RunFixture::new(&app).await;
    let pk = crate::filing_package::Fixture::new(&app).await;
    let violation = crate::violations::recorded(&app, vec![]).await;
    const QUERIES: &[&str] = &[
        "page=18446744073709551615",
        "page=0",
        "page=-1",
        "per_page=0",
        "per_page=99999999999999999999999",
        "per_page=18446744073709551615",
        "page=18446744073709551615&per_page=500",
        "id=18446744073709551615",
        "ids=-1",
        "after_id=-1",
        "institution_id=18446744073709551615",
        "round_id=-1",
        "a=18446744073709551615&b=-1",
        "year=99999999999",
        "from=99999-99-99&to=0000-00-00",
    ];
    const IDS: &[&str] = &["18446744073709551615", "-1", "9223372036854775807", "0"];
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in TABLE.iter().filter(|r| r.method == "GET") {
        let base = concrete(&app, &fx, &rf, &pk, violation, r.path);
        let mut urls: Vec<String> = QUERIES
            .iter()
            .map(|q| {
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}{q}")
            })
            .collect();
        if r.path.contains('{') {
            for id in IDS {
                let mut p = r.path.to_string();
                for hole in [
                    "{id}",
                    "{file_id}",
                    "{year}",
                    "{job}",
                    "{kind}",
                    "{code}",
                    "{no}",
                ] {
                    p = p.replace(hole, id);
                }
                // Any other placeholder: the hostile id too.
                while let (Some(a), Some(b)) = (p.find('{'), p.find('}')) {
                    if b < a {
                        break;
                    }
                    p.replace_range(a..=b, id);
                }
                urls.push(p);
            }
        }
        for url in urls {
            for who in [Who::CentreAdmin, Who::InstAAdmin] {
                let resp = if r.path.starts_with("/api/") {
                    app.api(Method::GET, &url, who, None).await
                } else {
                    app.get(&url, who).await
                };
                checked += 1;
                if resp.status.is_server_error() {
                    failures.push(format!(
                        "GET {url} as {who:?}: {} {}",
                        resp.status,
                        resp.text().chars().take(160).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} requests");
    assert!(
        failures.is_empty(),
        "{} server errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // A list names the field it refuses.
    let r = app
        .get_api(
            "/api/v1/institutions?page=18446744073709551615",
            Who::CentreAdmin,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "page");
    let r = app
        .get_api("/api/v1/institutions?per_page=0", Who::CentreAdmin)
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "per_page");
    let r = app
        .get_api("/api/v1/institutions?per_page=abc", Who::CentreAdmin)
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "per_page");
}

both_backends!(s18_every_get_route_survives_hostile_numbers);
