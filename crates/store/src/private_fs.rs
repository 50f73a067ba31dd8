//! Files and folders only the service account may read (SECURITY.md S14, S15, S21): the data
//! folder 0700, the SQLite database and backups 0600 — set explicitly when created, whatever the
//! process umask (a umask can only take bits away, and `chmod` follows to be sure).

use crate::{Result, StoreError};
use std::path::Path;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!(
        "{what} {}: {e}",
        path.display()
    )))
}

/// Creates `dir` (and missing parents) as 0700. A folder that already exists is left as it is
/// (it may be `/tmp` or one the administrator set up).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io_err("create folder", dir, e))?;
    set_mode(dir, 0o700)
}

/// Creates an empty file `path` as 0600 if it does not exist yet (SQLite then opens it, and
/// gives its WAL and shared-memory files the same mode). An existing file is left as it is.
pub fn create_private_file(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => set_mode(path, 0o600),
        // Created by someone else meanwhile (another server starting): theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err("create file", path, e)),
    }
}

#[allow(unused_variables)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io_err("chmod", path, e))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn s15_new_folders_are_0700_and_new_files_0600() {
        let base = std::env::temp_dir().join(format!("peixun-private-{}", std::process::id()));
        let dir = base.join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let f = dir.join("x.db");
        create_private_file(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        // An existing file keeps its mode.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        create_private_file(&f).unwrap();
        assert_eq!(mode(&f), 0o640);
        let _ = std::fs::remove_dir_all(&base);
    }
}
