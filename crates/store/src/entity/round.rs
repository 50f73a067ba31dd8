use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rounds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub half: String,
    pub label: String,
    pub base_planned: i32,
    pub rolled_over: i32,
    /// H1 only: rollover computed at the close while no H2 existed yet (applied when it is created).
    pub rollover_pending: i32,
    pub consumed_at_close: Option<i32>,
    pub window_start: Date,
    pub window_end: Date,
    /// JSON array of `rounds::TargetGroup`.
    pub target_groups: String,
    pub call_text: String,
    pub status: String,
    pub next_queue_seq: i64,
    /// Slots held in the round (its `quota_slots` rows), kept by `crate::queue` (R-FIL-6).
    pub slots_held: i32,
    /// One past the highest slot number handed out; lower free numbers are in
    /// `quota_free_slots`.
    pub next_slot_no: i32,
    pub published_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
