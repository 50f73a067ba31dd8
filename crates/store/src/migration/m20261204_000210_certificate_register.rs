//! Indexes for the certificate register (证书台账): the list is ordered by code and read a page
//! at a time from a code on (keyset), filtered by institution, status, holder name or issue
//! date; each filter has an index that keeps a page's read bounded at province scale.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str)] = &[
    (
        "ix_certificates_institution_code",
        "CREATE INDEX IF NOT EXISTS ix_certificates_institution_code ON certificates (institution_id, code)",
    ),
    (
        "ix_certificates_status_code",
        "CREATE INDEX IF NOT EXISTS ix_certificates_status_code ON certificates (status, code)",
    ),
    (
        "ix_certificates_holder_name",
        "CREATE INDEX IF NOT EXISTS ix_certificates_holder_name ON certificates (holder_name)",
    ),
    (
        "ix_certificates_issued_on",
        "CREATE INDEX IF NOT EXISTS ix_certificates_issued_on ON certificates (issued_on)",
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
