//! The quota slots a seeded round holds (R-FIL-6, S9), as today's schema keeps them: one
//! `quota_slots` row per filing that holds a slot (`UNIQUE(round_id, slot_no)`,
//! `UNIQUE(filing_id)`), `granted_at` the grant, and the filing's `slot_state` mirroring
//! [`peixun_domain::workflow::class::holds_slot`] ([`super::classes::Fil::slot_state`]).
//!
//! Kept in this one function on purpose: a queue that keeps counters or a free-slot structure
//! per round or agreement changes what a seeded round must write here, and nothing else.

use super::Ids;
use super::classes::Fil;
use crate::entity::quota_slot;
use sea_orm::Set;

/// The slot rows of a round's simulated filings.
pub(super) fn slot_rows(
    round_id: i64,
    fils: &[Fil],
    ids: &mut Ids,
) -> Vec<quota_slot::ActiveModel> {
    let mut out = Vec::new();
    for f in fils {
        if let (Some(n), Some(at)) = (f.slot_no, f.granted_at) {
            ids.slot += 1;
            out.push(quota_slot::ActiveModel {
                id: Set(ids.slot),
                round_id: Set(round_id),
                slot_no: Set(n),
                filing_id: Set(f.id),
                granted_at: Set(at),
            });
        }
    }
    out
}
