//! Evaluations (R-EVA-1, 绩效评估): the list, one evaluation with its four components (computed,
//! adjusted with the reason beside it, flags), its trail and the band's effect on the next cap
//! (R-CAP-3); the centre opens, recomputes, adjusts or accepts, and confirms. Pages and the JSON
//! API call the same store services (`peixun_store::evaluations`).

pub mod api;
pub mod pages;

use super::Registrar;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}

/// The component key of a form or JSON field (`task_completion`, `supervision`, `archives`,
/// `satisfaction`), or a 422 naming the field.
pub(crate) fn component(
    s: &str,
    field: &str,
) -> Result<peixun_domain::evaluation::ComponentKey, crate::error::AppError> {
    peixun_domain::evaluation::ComponentKey::parse(s.trim()).ok_or_else(|| {
        peixun_store::StoreError::Validation {
            code: "EVA_COMPONENT",
            message: "评估分项须为 task_completion、supervision、archives 或 satisfaction".into(),
            field: Some(field.to_string()),
        }
        .into()
    })
}

/// The adjusted value of a form or JSON field: empty → `None` (accept the computed value).
pub(crate) fn value(
    s: &str,
    field: &str,
) -> Result<Option<rust_decimal::Decimal>, crate::error::AppError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<rust_decimal::Decimal>()
        .ok()
        .filter(|d| {
            *d >= rust_decimal::Decimal::ZERO
                && *d <= rust_decimal::Decimal::ONE_HUNDRED
                && d.normalize().scale() <= 3
        })
        .map(Some)
        .ok_or_else(|| {
            peixun_store::StoreError::Validation {
                code: "EVA_VALUE",
                message: "调整值须为0至100之间的数，最多三位小数（留空表示确认计算值）".into(),
                field: Some(field.to_string()),
            }
            .into()
        })
}
