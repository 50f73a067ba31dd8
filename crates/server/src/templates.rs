//! The page templates, embedded in the binary so that `peixun serve` works from any folder.
//! All are named `*.html`, so minijinja escapes every value (test: `<script>` in data comes out
//! as `&lt;script&gt;`). Undefined values are errors (strict), so a missing context key fails the
//! template test rather than rendering an empty string.

use minijinja::{Environment, UndefinedBehavior, Value};

/// (name, source) of every template.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("password.html", include_str!("../templates/password.html")),
    (
        "login_totp.html",
        include_str!("../templates/login_totp.html"),
    ),
    (
        "account_totp.html",
        include_str!("../templates/account_totp.html"),
    ),
    (
        "account_totp_codes.html",
        include_str!("../templates/account_totp_codes.html"),
    ),
    ("home.html", include_str!("../templates/home.html")),
    ("calendar.html", include_str!("../templates/calendar.html")),
    ("archive.html", include_str!("../templates/archive.html")),
    (
        "results_entry.html",
        include_str!("../templates/results_entry.html"),
    ),
    (
        "evaluations_list.html",
        include_str!("../templates/evaluations_list.html"),
    ),
    (
        "evaluation_detail.html",
        include_str!("../templates/evaluation_detail.html"),
    ),
    (
        "evaluation_refused.html",
        include_str!("../templates/evaluation_refused.html"),
    ),
    (
        "certificates_list.html",
        include_str!("../templates/certificates_list.html"),
    ),
    (
        "certificate_register.html",
        include_str!("../templates/certificate_register.html"),
    ),
    ("verify.html", include_str!("../templates/verify.html")),
    (
        "survey_public.html",
        include_str!("../templates/survey_public.html"),
    ),
    (
        "survey_thanks.html",
        include_str!("../templates/survey_thanks.html"),
    ),
    (
        "survey_section.html",
        include_str!("../templates/survey_section.html"),
    ),
    (
        "survey_round.html",
        include_str!("../templates/survey_round.html"),
    ),
    (
        "evaluation_chart.html",
        include_str!("../templates/evaluation_chart.html"),
    ),
    (
        "calendar_import.html",
        include_str!("../templates/calendar_import.html"),
    ),
    (
        "institutions_list.html",
        include_str!("../templates/institutions_list.html"),
    ),
    (
        "institution_detail.html",
        include_str!("../templates/institution_detail.html"),
    ),
    (
        "institution_form.html",
        include_str!("../templates/institution_form.html"),
    ),
    (
        "teachers_list.html",
        include_str!("../templates/teachers_list.html"),
    ),
    (
        "teacher_form.html",
        include_str!("../templates/teacher_form.html"),
    ),
    (
        "teacher_reveal.html",
        include_str!("../templates/teacher_reveal.html"),
    ),
    (
        "trainee_reveal.html",
        include_str!("../templates/trainee_reveal.html"),
    ),
    (
        "policies_list.html",
        include_str!("../templates/policies_list.html"),
    ),
    (
        "policies_form.html",
        include_str!("../templates/policies_form.html"),
    ),
    (
        "policies_detail.html",
        include_str!("../templates/policies_detail.html"),
    ),
    (
        "policies_compare.html",
        include_str!("../templates/policies_compare.html"),
    ),
    (
        "users_list.html",
        include_str!("../templates/users_list.html"),
    ),
    (
        "user_form.html",
        include_str!("../templates/user_form.html"),
    ),
    (
        "credential_half.html",
        include_str!("../templates/credential_half.html"),
    ),
    (
        "credential_requests.html",
        include_str!("../templates/credential_requests.html"),
    ),
    (
        "credential_reset.html",
        include_str!("../templates/credential_reset.html"),
    ),
    (
        "audit_list.html",
        include_str!("../templates/audit_list.html"),
    ),
    (
        "plans_list.html",
        include_str!("../templates/plans_list.html"),
    ),
    (
        "plan_form.html",
        include_str!("../templates/plan_form.html"),
    ),
    (
        "plan_detail.html",
        include_str!("../templates/plan_detail.html"),
    ),
    (
        "rounds_list.html",
        include_str!("../templates/rounds_list.html"),
    ),
    (
        "round_form.html",
        include_str!("../templates/round_form.html"),
    ),
    (
        "round_detail.html",
        include_str!("../templates/round_detail.html"),
    ),
    (
        "round_apply.html",
        include_str!("../templates/round_apply.html"),
    ),
    (
        "applications_list.html",
        include_str!("../templates/applications_list.html"),
    ),
    (
        "application_detail.html",
        include_str!("../templates/application_detail.html"),
    ),
    (
        "agreement_detail.html",
        include_str!("../templates/agreement_detail.html"),
    ),
    (
        "filing_detail.html",
        include_str!("../templates/filing_detail.html"),
    ),
    (
        "package_detail.html",
        include_str!("../templates/package_detail.html"),
    ),
    (
        "packages_list.html",
        include_str!("../templates/packages_list.html"),
    ),
    (
        "review_queue.html",
        include_str!("../templates/review_queue.html"),
    ),
    (
        "requests_list.html",
        include_str!("../templates/requests_list.html"),
    ),
    (
        "request_new.html",
        include_str!("../templates/request_new.html"),
    ),
    (
        "request_detail.html",
        include_str!("../templates/request_detail.html"),
    ),
    (
        "round_filings.html",
        include_str!("../templates/round_filings.html"),
    ),
    (
        "bulletin_index.html",
        include_str!("../templates/bulletin_index.html"),
    ),
    (
        "bulletin_round.html",
        include_str!("../templates/bulletin_round.html"),
    ),
    (
        "calculator.html",
        include_str!("../templates/calculator.html"),
    ),
    ("inbox.html", include_str!("../templates/inbox.html")),
    (
        "classes_list.html",
        include_str!("../templates/classes_list.html"),
    ),
    (
        "class_detail.html",
        include_str!("../templates/class_detail.html"),
    ),
    (
        "teacher_changes.html",
        include_str!("../templates/teacher_changes.html"),
    ),
    ("reports.html", include_str!("../templates/reports.html")),
    (
        "inspections_list.html",
        include_str!("../templates/inspections_list.html"),
    ),
    (
        "inspection_detail.html",
        include_str!("../templates/inspection_detail.html"),
    ),
    ("progress.html", include_str!("../templates/progress.html")),
    (
        "sanctions.html",
        include_str!("../templates/sanctions.html"),
    ),
    ("overdue.html", include_str!("../templates/overdue.html")),
    (
        "violations_list.html",
        include_str!("../templates/violations_list.html"),
    ),
    (
        "violation_new.html",
        include_str!("../templates/violation_new.html"),
    ),
    (
        "violation_detail.html",
        include_str!("../templates/violation_detail.html"),
    ),
    (
        "jobs_admin.html",
        include_str!("../templates/jobs_admin.html"),
    ),
];

pub const APP_CSS: &str = include_str!("../static/app.css");

pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("beijing", beijing);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        TEMPLATES.iter().map(|(n, _)| *n)
    }
}

/// `{{ t|beijing }}`: an RFC 3339 instant (as the store serialises `DateTime<Utc>`) shown in
/// Beijing time, `2026-12-04 09:30`; anything else is shown as it is.
fn beijing(v: String) -> String {
    match chrono::DateTime::parse_from_rfc3339(&v) {
        Ok(t) => t
            .with_timezone(&peixun_domain::rules::shanghai())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => v,
    }
}

#[cfg(test)]
mod filter_tests {
    #[test]
    fn instants_are_shown_in_beijing_time() {
        assert_eq!(
            super::beijing("2026-12-03T17:05:09.5Z".into()),
            "2026-12-04 01:05"
        );
        assert_eq!(
            super::beijing("2026-12-03T17:05:09+00:00".into()),
            "2026-12-04 01:05"
        );
        assert_eq!(super::beijing("未提交".into()), "未提交");
    }
}
