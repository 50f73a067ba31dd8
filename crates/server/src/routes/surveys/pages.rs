//! Survey pages (R-EVA-3): the public questionnaire `/s/{token}` with its thank-you page, the
//! class page's survey section (link, QR code, closing date, counts), the QR code as SVG, the
//! centre's closing-date form, and the round's survey page with the questionnaire editor.
//! No JavaScript: every action is a form; an error shows the page again with the summary at the
//! top naming each field.

use super::super::Registrar;
use super::super::pages_filing_package::{jv, page_err, with_status};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::pages::{CsrfForm, FormData, Saved, no_errors, render};
use crate::security;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_domain::survey::{
    MAX_COMMENT_CHARS, MAX_QUESTIONS, Question, QuestionKind, Questionnaire, RATING_LABELS,
    SurveyStats,
};
use peixun_store::Actor;
use peixun_store::surveys::{self, PublicSurvey, SurveyOpen};
use serde_json::json;
use std::collections::BTreeMap;

/// The public form's double-submit cookie (no session exists): set by the GET, checked by the
/// POST (S19), scoped to `/s/`.
pub const SURVEY_CSRF_COOKIE: &str = "peixun_survey_csrf";

pub fn register(r: Registrar) -> Registrar {
    r.get("/s/{token}", public_page)
        .post("/s/{token}", public_submit)
        .get("/s/{token}/thanks", thanks_page)
        .get("/classes/{id}/survey/qr.svg", class_qr)
        .post("/classes/{id}/survey/closing", class_closing)
        .get("/rounds/{id}/survey", round_page)
        .post("/rounds/{id}/survey", round_save)
}

/// The public form, with its double-submit token checked.
pub struct SurveyForm(pub FormData);

impl FromRequest<AppState> for SurveyForm {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let cookie = security::get_cookie(req.headers(), SURVEY_CSRF_COOKIE).unwrap_or_default();
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge
                } else {
                    AppError::BadRequest(e.body_text())
                }
            })?;
        let form = FormData(pairs);
        if cookie.is_empty() || !security::constant_time_eq(form.get("csrf_token"), &cookie) {
            return Err(AppError::Csrf("survey form token"));
        }
        Ok(SurveyForm(form))
    }
}

fn stats_value(s: &SurveyStats) -> serde_json::Value {
    json!({
        "responses": s.responses,
        "trainees": s.trainees,
        "rate": s.rate_percent.map(|r| format!("{r}%")).unwrap_or_else(|| "—".into()),
        "questions": s.questions.iter().map(|q| json!({
            "key": q.key, "text": q.text, "answers": q.answers,
            "mean": q.mean.map(|m| m.to_string()).unwrap_or_else(|| "—".into()),
        })).collect::<Vec<_>>(),
        "overall": s.overall().and_then(|q| q.mean).map(|m| m.to_string()).unwrap_or_else(|| "—".into()),
    })
}

fn public_value(p: &PublicSurvey) -> serde_json::Value {
    json!({
        "token": p.token, "occupation": p.occupation, "level": p.level,
        "institution_name": p.institution_name, "start_date": p.start_date.to_string(),
        "closes_on": p.closes_on.to_string(), "open": p.open == SurveyOpen::Open,
        "notice": p.open.notice().unwrap_or_default(),
    })
}

fn questions_value(q: &Questionnaire, form: &FormData) -> serde_json::Value {
    json!(
        q.questions
            .iter()
            .map(|x| json!({
                "key": x.key, "text": x.text, "kind": x.kind.code(),
                "value": form.get(&x.key),
                "options": (1..=5).map(|n| json!({ "value": n.to_string(), "label": RATING_LABELS[n - 1] })).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()
    )
}

/// The public page (and its re-display after an error). Sets a fresh double-submit cookie.
fn render_public(
    state: &AppState,
    user: Option<&CurrentUser>,
    p: &PublicSurvey,
    form: &FormData,
    errors: (Value, Value),
    status: StatusCode,
) -> AppResult<Response> {
    let csrf = security::random_token();
    let mut resp = render(
        state,
        user,
        "/s",
        "survey_public.html",
        "学员满意度调查",
        context! {
            survey => jv(public_value(p)),
            questions => jv(questions_value(&p.questionnaire, form)),
            form => jv(json!({ "name": form.get("name"), "id_last4": form.get("id_last4") })),
            survey_csrf => csrf.clone(),
            max_comment => MAX_COMMENT_CHARS,
            errors => errors.0,
            field_errors => errors.1,
        },
    )?;
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        security::cookie(
            SURVEY_CSRF_COOKIE,
            &csrf,
            "/s/",
            state.config.secure_cookies,
            Some(3600),
        ),
    );
    // What a trainee typed must not stay in a shared phone's cache (S19).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `GET /s/{token}` (no sign-in): the questionnaire, or why it does not take answers.
async fn public_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ApiPath(token): ApiPath<String>,
) -> AppResult<Response> {
    let p = surveys::public_survey(&state.store, &token, state.clock.now()).await?;
    render_public(
        &state,
        user.as_ref(),
        &p,
        &FormData::default(),
        no_errors(),
        StatusCode::OK,
    )
}

/// Error anchors: a question's key → its fieldset (`q-teaching`).
fn anchor(field: &str) -> String {
    match field {
        "name" | "id_last4" | "survey" => field.to_string(),
        k => format!("q-{k}"),
    }
}

/// `POST /s/{token}`: identify, answer once, then redirect to the thank-you page (PRG).
async fn public_submit(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ctx: RequestCtx,
    ApiPath(token): ApiPath<String>,
    SurveyForm(form): SurveyForm,
) -> AppResult<Response> {
    if let Err(secs) = super::limit(&state, ctx.ip.as_deref(), &token) {
        // The page again with the notice, 429 and Retry-After (what was typed stays).
        let p = surveys::public_survey(&state.store, &token, state.clock.now()).await?;
        let e = AppError::Conflict {
            code: "SURVEY_TOO_MANY".into(),
            message: "提交过于频繁，请稍后再试".into(),
            field: Some("survey".into()),
        };
        let errors = crate::pages::form_errors(&e, anchor);
        let mut resp = render_public(
            &state,
            user.as_ref(),
            &p,
            &form,
            errors,
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let answers: BTreeMap<String, String> = form
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf_token" | "name" | "id_last4"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let res = surveys::respond(
        &state.store,
        &token,
        form.get("name"),
        form.get("id_last4"),
        &answers,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(()) => Ok(Redirect::to(&format!("/s/{token}/thanks")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), anchor)?;
            let p = surveys::public_survey(&state.store, &token, state.clock.now()).await?;
            render_public(&state, user.as_ref(), &p, &form, pe.errors, pe.status)
        }
    }
}

async fn thanks_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ApiPath(token): ApiPath<String>,
) -> AppResult<Response> {
    let p = surveys::public_survey(&state.store, &token, state.clock.now()).await?;
    render(
        &state,
        user.as_ref(),
        "/s",
        "survey_thanks.html",
        "感谢参与",
        context! { survey => jv(public_value(&p)) },
    )
}

/// The class page's 满意度调查 section (R-EVA-3): `None` before the class is approved or for a
/// viewer who may not see it. The link and QR code only for the centre and the class's
/// institution; counts for the bureau and the city too. Never who answered.
pub(crate) async fn class_section(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    class_id: i64,
    status: &str,
) -> AppResult<Option<serde_json::Value>> {
    if !matches!(
        status,
        "approved"
            | "roster_review"
            | "in_training"
            | "training_complete"
            | "overdue"
            | "completed"
            | "archived"
    ) {
        return Ok(None);
    }
    let v = match surveys::class_survey(&state.store, actor, class_id, state.clock.now()).await {
        Ok(v) => v,
        Err(
            peixun_store::StoreError::NotFound { .. } | peixun_store::StoreError::Forbidden { .. },
        ) => {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let show_link = user.role.is_centre() || user.role.is_institution();
    // The trainees' comments: the centre only, without dates or order of arrival.
    let comments = if user.role.is_centre() {
        surveys::class_comments(&state.store, actor, class_id).await?
    } else {
        Vec::new()
    };
    let origin = state
        .config
        .public_origin
        .as_deref()
        .map(|o| o.trim_end_matches('/').to_string())
        .unwrap_or_default();
    Ok(Some(json!({
        "class_id": class_id,
        "show_link": show_link,
        "url": super::survey_url(&origin, &v.token),
        "closes_on": v.closes_on.to_string(),
        "closes_on_is_default": v.closes_on_is_default,
        "open": v.open,
        "can_edit_closing": user.role.is_centre(),
        "stats": stats_value(&v.stats),
        "round_id": v.round_id,
        "comments": comments,
    })))
}

/// `GET /classes/{id}/survey/qr.svg`: the survey link as a QR code (the centre and the class's
/// institution; another institution gets 404, S6).
async fn class_qr(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    if !(user.role.is_centre() || user.role.is_institution()) {
        return Err(AppError::Forbidden("无权获取问卷二维码".into()));
    }
    let v = surveys::class_survey(&state.store, &actor, id, state.clock.now()).await?;
    let url = super::survey_url(&super::origin(&state, &headers), &v.token);
    let svg = tokio::task::spawn_blocking(move || super::qr_svg(&url))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("qr task: {e}")))?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("qr code")))?;
    let mut resp = svg.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"survey-{id}.svg\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `POST /classes/{id}/survey/closing` (the centre): a new closing date, or empty for the
/// default. An error shows the class page again.
async fn class_closing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let raw = form.get("closes_on").trim().to_string();
    let res: Result<(), AppError> = async {
        let date = if raw.is_empty() {
            None
        } else {
            Some(
                chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| {
                    AppError::Validation {
                        code: "SURVEY_CLOSES_ON_FORMAT".into(),
                        message: "问卷截止日期：格式应为 2026-04-20".into(),
                        field: Some("closes_on".into()),
                    }
                })?,
            )
        };
        surveys::set_closing_date(&state.store, &user.actor(&ctx), id, date, state.clock.now())
            .await?;
        Ok(())
    }
    .await;
    match res {
        Ok(()) => {
            Ok(Redirect::to(&format!("/classes/{id}?saved=survey_closing#survey")).into_response())
        }
        Err(e) => {
            let pe = page_err(e, |f| f.to_string())?;
            with_status(
                crate::routes::running::classes::render_class(
                    &state,
                    &user,
                    &ctx,
                    id,
                    Value::from(()),
                    &form,
                    pe.errors,
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

fn may_edit_questionnaire(role: Role) -> bool {
    role.is_centre()
}

/// The editor's rows: the questionnaire's questions, then blank rows up to the maximum.
fn editor_rows(q: &Questionnaire) -> Vec<serde_json::Value> {
    let mut rows: Vec<_> = q
        .questions
        .iter()
        .map(|x| json!({ "key": x.key, "text": x.text, "kind": x.kind.code() }))
        .collect();
    while rows.len() < MAX_QUESTIONS {
        rows.push(json!({ "key": "", "text": "", "kind": "rating" }));
    }
    rows
}

/// The questionnaire as submitted: rows `key_i`, `text_i`, `kind_i`; wholly blank rows dropped.
/// With each question, the form row it came from.
fn submitted(form: &FormData) -> (Questionnaire, Vec<usize>) {
    let mut questions = Vec::new();
    let mut rows = Vec::new();
    for i in 0..MAX_QUESTIONS + 4 {
        let key = form.get(&format!("key_{i}")).trim().to_string();
        let text = form.get(&format!("text_{i}")).trim().to_string();
        if key.is_empty() && text.is_empty() {
            continue;
        }
        rows.push(i);
        questions.push(Question {
            key,
            text,
            kind: QuestionKind::parse(form.get(&format!("kind_{i}")))
                .unwrap_or(QuestionKind::Rating),
        });
    }
    (Questionnaire { questions }, rows)
}

async fn render_round(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Value,
    edit: Option<(Questionnaire, (Value, Value))>,
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let view = surveys::round_survey(&state.store, &actor, id).await?;
    let q = surveys::get_questionnaire(&state.store, &actor, id).await?;
    let round = peixun_store::rounds::get_round(&state.store, &actor, id).await?;
    let classes: Vec<_> = view
        .classes
        .iter()
        .map(|c| {
            json!({
                "id": c.filing_id, "institution_name": c.institution_name, "occupation": c.occupation,
                "level": c.level, "status_label": c.status_label, "stats": stats_value(&c.stats),
            })
        })
        .collect();
    let (rows_q, errors) = match edit {
        Some((q, e)) => (q, e),
        None => (q.questionnaire.clone(), no_errors()),
    };
    render(
        state,
        Some(user),
        "/rounds",
        "survey_round.html",
        &format!("{} 学员满意度调查", round.label),
        context! {
            round => jv(json!({ "id": id, "label": round.label })),
            headers => jv(json!(view.questionnaire.ratings().map(|q| q.text.clone()).collect::<Vec<_>>())),
            classes => jv(json!(classes)),
            total => jv(stats_value(&view.total)),
            questionnaire => jv(json!(q.questionnaire.questions.iter().map(|x| json!({
                "key": x.key, "text": x.text, "kind_label": if x.kind == QuestionKind::Rating { "1–5分评分" } else { "文字意见（选填）" },
            })).collect::<Vec<_>>())),
            is_default => q.is_default,
            updated => q.updated_at.map(super::super::pages_filing_package::local).unwrap_or_default(),
            updated_by => q.updated_by.clone().unwrap_or_default(),
            can_edit => may_edit_questionnaire(user.role),
            rows => jv(json!(editor_rows(&rows_q))),
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )
}

/// `GET /rounds/{id}/survey` (centre, bureau, city): response rate and mean ratings per class
/// and in total; the questionnaire (the centre edits it here).
async fn round_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    let flash = match saved.saved.as_deref() {
        Some(_) => Value::from("问卷已保存，新提交的答卷按新问卷填写。"),
        None => Value::from(()),
    };
    render_round(&state, &user, &ctx, id, flash, None).await
}

/// `POST /rounds/{id}/survey` (the centre): save the round's questionnaire; every problem is
/// listed beside its row and nothing is saved.
async fn round_save(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let (q, form_rows) = submitted(&form);
    match surveys::save_questionnaire(&state.store, &user.actor(&ctx), id, &q, state.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/rounds/{id}/survey?saved=1")).into_response()),
        Err(e) => {
            // `questions[3].key` → `key_3`: the input of that row.
            let pe = page_err(e.into(), |f| {
                let Some(rest) = f.strip_prefix("questions[") else {
                    return "questions".to_string();
                };
                let (i, col) = rest.split_once("].").unwrap_or((rest, "key"));
                match i.parse::<usize>().ok().and_then(|i| form_rows.get(i)) {
                    Some(row) => format!("{col}_{row}"),
                    None => "questions".to_string(),
                }
            })?;
            with_status(
                render_round(
                    &state,
                    &user,
                    &ctx,
                    id,
                    Value::from(()),
                    Some((q, pe.errors)),
                )
                .await,
                Some(pe.status),
            )
        }
    }
}
