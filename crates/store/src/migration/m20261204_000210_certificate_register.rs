//! Indexes for the certificate register (证书台账): the list is in issue order `(issued_on,
//! code)` and read a page at a time from a code on (keyset), filtered by year of issue,
//! institution, status or holder name; each filter has an index that leads with it and continues
//! in the list's order, so a filtered page reads only the rows it shows, at any depth.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str)] = &[
    (
        "ix_certificates_issued_code",
        "CREATE INDEX IF NOT EXISTS ix_certificates_issued_code ON certificates (issued_on, code)",
    ),
    (
        "ix_certificates_institution_issued",
        "CREATE INDEX IF NOT EXISTS ix_certificates_institution_issued ON certificates (institution_id, issued_on, code)",
    ),
    (
        "ix_certificates_status_issued",
        "CREATE INDEX IF NOT EXISTS ix_certificates_status_issued ON certificates (status, issued_on, code)",
    ),
    (
        "ix_certificates_holder_name",
        "CREATE INDEX IF NOT EXISTS ix_certificates_holder_name ON certificates (holder_name)",
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
