//! Indexes for the reads every user makes (issue 12): the work lists of the home page count
//! filings by state (`filings.status`: to review, roster changes, after training for results
//! and archives), per institution for institution users.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str)] = &[
    (
        "ix_filings_status_institution",
        "CREATE INDEX IF NOT EXISTS ix_filings_status_institution ON filings (status, institution_id)",
    ),
    (
        "ix_filings_institution_status",
        "CREATE INDEX IF NOT EXISTS ix_filings_institution_status ON filings (institution_id, status)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (_, sql) in INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
