//! Uploaded files (SECURITY.md S16; ARCHITECTURE.md "Uploaded files").
//!
//! * **Content decides.** [`FileStore::put_bytes`] sniffs the bytes ([`peixun_import::sniff`]),
//!   never the name: empty, oversize, unrecognised, [`FileType::Dangerous`] (HTML, SVG, scripts)
//!   and types outside the caller's `allowed` list are refused with a
//!   [`StoreError::Validation`] (`code`, `field = "file"`, Chinese message).
//! * **Generated names, outside any served folder.** A file is stored under the key
//!   `ab/cd/<id>` of the files location ([`FilesLocation`]: by default the folder
//!   `<data_dir>/files`, so `<data_dir>/files/ab/cd/<id>`), where `id` is 128 random bits in hex;
//!   the uploaded name is kept only as metadata (sanitised, [`sanitize_name`]). The server serves
//!   nothing from there; downloads go through a handler that checks access and answers with
//!   [`content_disposition`] (`attachment`), `X-Content-Type-Options: nosniff` and a sandboxing CSP.
//! * **Atomic.** In a folder the bytes are staged beside the destination (`<id>#1`), fsynced,
//!   renamed into place, and the folder is fsynced (object_store's `LocalFileSystem` with fsync);
//!   in a bucket an object appears whole or not at all. A crash leaves either no file or the
//!   whole file.
//! * **Metadata in the caller's transaction.** `put_bytes` writes the file; the caller then calls
//!   [`record_file`] with its own transaction, next to its business row, so the row and the
//!   metadata commit together. If the transaction fails, the caller deletes the file
//!   ([`FileStore::delete`]); [`FileStore::sweep_orphans`] removes any left behind by a crash.
//! * **Access.** [`get_file`] returns the metadata (`institution_id`, `purpose`) for the caller's
//!   check ([`may_read`] is the default rule), then [`FileStore::open`] reads the bytes.
//!
//! * **Encrypted at rest** (S14). `put_bytes` writes the content AES-256-GCM-sealed under the
//!   data key ([`crate::pii::DataKeys`], `PXE1 ‖ key id ‖ nonce ‖ ciphertext ‖ tag`, the file
//!   id as associated data); `open` decrypts. The recorded sha256 and size are of the
//!   plaintext; `files.key_id` says which key (NULL: a plaintext file from before encryption,
//!   converted by [`crate::at_rest::encrypt_legacy_rows`]; `open` still reads it meanwhile).
//!
//! Backends (issue 12 item 5): every operation goes through the `object_store` crate — its
//! local file system for a folder (the default; every folder 0700, every file 0600, S15), or an
//! S3-compatible bucket with the cargo feature `s3`, so that several servers on one database
//! share their uploads. The location is one setting, `--files` / `PEIXUN_FILES`
//! ([`FilesLocation::resolve`]).

pub use crate::files_location::FilesLocation;
use crate::files_location::{Backend, open_backend};
use crate::pii::{DataKeys, blob_key_id};
use crate::{Actor, Result, Store, StoreError, db_time};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use peixun_domain::role::Role;
use peixun_import::{FileType, sniff};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The `files` table.
pub mod file {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "files")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub sha256: String,
        pub size: i64,
        pub mime: String,
        pub original_name: String,
        pub purpose: String,
        pub institution_id: Option<i64>,
        pub uploaded_by: String,
        pub uploaded_by_user_id: Option<i64>,
        pub uploaded_at: DateTimeUtc,
        /// The data key the content is encrypted under (S14); `None`: plaintext (legacy).
        pub key_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A file written by [`FileStore::put_bytes`], not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// The generated name (32 lowercase hex characters).
    pub id: String,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
    pub file_type: FileType,
    /// The uploaded name, sanitised for display ([`sanitize_name`]).
    pub original_name: String,
    /// The data key the content was encrypted under (S14).
    #[serde(default)]
    pub key_id: Option<String>,
}

/// A recorded file's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: String,
    pub sha256: String,
    pub size: u64,
    pub file_type: Option<FileType>,
    pub mime: String,
    pub original_name: String,
    /// What it is for, e.g. `filing_document:training_plan`, `roster`, `inspection_photo`.
    pub purpose: String,
    /// The institution it belongs to (for the access check); `None` for the centre's own files.
    pub institution_id: Option<i64>,
    pub uploaded_by: String,
    pub uploaded_by_user_id: Option<i64>,
    pub uploaded_at: DateTime<Utc>,
}

impl From<file::Model> for FileRecord {
    fn from(m: file::Model) -> Self {
        FileRecord {
            file_type: FileType::from_mime(&m.mime),
            id: m.id,
            sha256: m.sha256,
            size: u64::try_from(m.size).unwrap_or(0),
            mime: m.mime,
            original_name: m.original_name,
            purpose: m.purpose,
            institution_id: m.institution_id,
            uploaded_by: m.uploaded_by,
            uploaded_by_user_id: m.uploaded_by_user_id,
            uploaded_at: m.uploaded_at,
        }
    }
}

/// Where file contents live ([`FilesLocation`]: a folder by default, or an S3-compatible bucket),
/// through one small interface: put, open, reseal, delete, exists, sweep. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    backend: Arc<Backend>,
    location: Arc<FilesLocation>,
    keys: FileKeys,
}

impl std::fmt::Debug for FileStore {
    // The object store's own `Debug` may show credentials: only the location is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileStore({})", self.location.describe())
    }
}

/// The data key ring of a [`FileStore`]: given at construction
/// ([`FileStore::local_with_keys`], [`FileStore::at`]), or loaded on first use from the data
/// folder (`PEIXUN_DATA_KEY` or `<data_dir>/data.key`, created when missing; [`FileStore::local`]).
#[derive(Debug, Clone)]
pub struct FileKeys {
    ring: Arc<OnceLock<Arc<DataKeys>>>,
    data_dir: PathBuf,
}

/// The associated data of a file's content: its id (a content moved to another id does not open).
fn file_aad(id: &str) -> Vec<u8> {
    format!("peixun/v1/files/{id}").into_bytes()
}

fn io_err(what: &str, e: std::io::Error) -> StoreError {
    // The path is ours (generated), never the uploaded name: safe to log.
    StoreError::Db(DbErr::Custom(format!("file store: {what}: {e}")))
}

fn new_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A generated id: exactly 32 lowercase hex characters (anything else never reaches the disk).
pub fn is_file_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn refuse(code: &'static str, message: String) -> StoreError {
    StoreError::validation(code, message, "file")
}

fn size_text(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// The checks of S16, without writing: the content's type, or the refusal.
pub fn check_upload(bytes: &[u8], allowed: &[FileType], max_bytes: usize) -> Result<FileType> {
    if bytes.is_empty() {
        return Err(refuse("FILE_EMPTY", "文件为空，请重新选择".into()));
    }
    if bytes.len() > max_bytes {
        return Err(refuse(
            "FILE_TOO_LARGE",
            format!(
                "文件过大（{}），不能超过{}",
                size_text(bytes.len()),
                size_text(max_bytes)
            ),
        ));
    }
    let allowed_text = || {
        allowed
            .iter()
            .map(|t| t.label_zh())
            .collect::<Vec<_>>()
            .join("、")
    };
    match sniff(bytes) {
        Some(FileType::Dangerous) => Err(refuse(
            "FILE_DANGEROUS",
            "文件内容是网页、脚本或可执行程序，出于安全原因已拒收".into(),
        )),
        Some(t) if allowed.contains(&t) && t != FileType::Dangerous => Ok(t),
        Some(t) => Err(refuse(
            "FILE_TYPE_NOT_ALLOWED",
            format!("文件内容为{}，此处只接受：{}", t.label_zh(), allowed_text()),
        )),
        None => Err(refuse(
            "FILE_TYPE_UNKNOWN",
            format!("无法识别文件类型，此处只接受：{}", allowed_text()),
        )),
    }
}

impl FileStore {
    /// The default store: the folder `<data_dir>/files` (created on first write), its data key
    /// loaded on first use from `PEIXUN_DATA_KEY` or `<data_dir>/data.key` (created when
    /// missing) — the same key `peixun serve` uses for that folder.
    pub fn local(data_dir: &Path) -> FileStore {
        FileStore::folder(
            data_dir,
            FileKeys {
                ring: Arc::new(OnceLock::new()),
                data_dir: data_dir.to_path_buf(),
            },
        )
    }

    /// The folder `<data_dir>/files` with the data key ring `keys`.
    pub fn local_with_keys(data_dir: &Path, keys: Arc<DataKeys>) -> FileStore {
        FileStore::folder(data_dir, FileKeys::given(data_dir, keys))
    }

    fn folder(data_dir: &Path, keys: FileKeys) -> FileStore {
        let location = FilesLocation::default_for(data_dir);
        // A folder backend only fails for a path that cannot be made absolute (no current
        // directory): then the folder is taken as given.
        let backend = open_backend(&location).unwrap_or_else(|_| Backend {
            store: Arc::new(object_store::local::LocalFileSystem::new().with_fsync(true)),
            prefix: ObjectPath::from_iter(
                data_dir
                    .join("files")
                    .iter()
                    .filter_map(|c| c.to_str().filter(|c| *c != "/").map(str::to_string)),
            ),
            folder: Some(data_dir.join("files")),
        });
        FileStore {
            backend: Arc::new(backend),
            location: Arc::new(location),
            keys,
        }
    }

    /// The store at `location` (the server's, from `--files` / `PEIXUN_FILES`), sealing with
    /// the data key ring `keys`. Refuses an unknown or unsupported location; touches nothing
    /// (see [`FileStore::check`]).
    pub fn at(location: &FilesLocation, keys: Arc<DataKeys>) -> Result<FileStore> {
        let backend = open_backend(location)?;
        Ok(FileStore {
            backend: Arc::new(backend),
            location: Arc::new(location.clone()),
            keys: FileKeys::given(Path::new("."), keys),
        })
    }

    /// Where the contents are.
    pub fn location(&self) -> &FilesLocation {
        &self.location
    }

    /// At start-up: the folder exists (created 0700) or the bucket answers a listing, so that a
    /// wrong location stops the start instead of the first upload.
    pub async fn check(&self) -> Result<()> {
        if let Some(dir) = self.backend.folder.clone() {
            return blocking(move || crate::private_fs::create_private_dir(&dir)).await?;
        }
        self.backend
            .store
            .list_with_delimiter(Some(&self.backend.prefix))
            .await
            .map(|_| ())
            .map_err(|e| backend_err("list", e))
    }

    /// The data key ring (loaded from the data folder on first use when none was given).
    pub fn data_keys(&self) -> Result<Arc<DataKeys>> {
        let keys = &self.keys;
        if let Some(k) = keys.ring.get() {
            return Ok(k.clone());
        }
        let loaded = DataKeys::load_or_create(&keys.data_dir)
            .map_err(|e| StoreError::Db(DbErr::Custom(format!("file store: data key: {e}"))))?;
        let _ = keys.ring.set(Arc::new(loaded));
        Ok(keys.ring.get().cloned().expect("set just above"))
    }

    /// The object key of file `id`: `<prefix>/ab/cd/<id>`; `None` for anything but a generated id.
    fn key_of(&self, id: &str) -> Option<ObjectPath> {
        is_file_id(id).then(|| {
            self.backend
                .prefix
                .clone()
                .join(&id[0..2])
                .join(&id[2..4])
                .join(id)
        })
    }

    /// In a folder: `<folder>/ab/cd/<id>`.
    #[cfg(test)]
    fn path_of(&self, id: &str) -> Option<PathBuf> {
        let dir = self.backend.folder.as_ref()?;
        is_file_id(id).then(|| dir.join(&id[0..2]).join(&id[2..4]).join(id))
    }

    /// Write `sealed` as file `id`'s content, atomically (a folder: staged beside the
    /// destination, fsynced, renamed, the folder fsynced; a bucket: one PUT). In a folder every
    /// folder on the way is 0700 and the file 0600 (S15), whatever the umask.
    async fn write(&self, id: &str, sealed: Vec<u8>) -> Result<()> {
        let key = self
            .key_of(id)
            .ok_or_else(|| StoreError::Db(DbErr::Custom("file store: bad generated id".into())))?;
        let folder = self.backend.folder.clone();
        if let Some(root) = folder.clone() {
            let id = id.to_string();
            blocking(move || {
                let a = root.join(&id[0..2]);
                let b = a.join(&id[2..4]);
                for d in [&root, &a, &b] {
                    crate::private_fs::create_private_dir(d)?;
                }
                Ok::<_, StoreError>(())
            })
            .await??;
        }
        self.backend
            .store
            .put(&key, PutPayload::from(sealed))
            .await
            .map_err(|e| backend_err("write", e))?;
        if let (Some(root), true) = (folder, cfg!(unix)) {
            let path = root.join(&id[0..2]).join(&id[2..4]).join(id);
            blocking(move || set_private_file(&path)).await??;
        }
        Ok(())
    }

    /// The stored (sealed) bytes of file `id`; `None` when there is no content.
    async fn read(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let Some(key) = self.key_of(id) else {
            return Err(StoreError::NotFound { entity: "file" });
        };
        match self.backend.store.get(&key).await {
            Ok(r) => Ok(Some(
                r.bytes()
                    .await
                    .map_err(|e| backend_err("read", e))?
                    .to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend_err("read", e)),
        }
    }

    /// Check (S16) and write `bytes`; returns what to pass to [`record_file`]. Hashing and
    /// sealing run on tokio's blocking pool; the write is the backend's (a folder's blocking
    /// I/O runs on the blocking pool too).
    pub async fn put_bytes(
        &self,
        bytes: &[u8],
        declared_name: &str,
        allowed: &[FileType],
        max_bytes: usize,
    ) -> Result<StoredFile> {
        let file_type = check_upload(bytes, allowed, max_bytes)?;
        let keys = self.data_keys()?;
        let id = new_id();
        let data = bytes.to_vec();
        let aad = file_aad(&id);
        let key_id = keys.current_id().to_string();
        let (sha256, sealed) = blocking(move || {
            let sha256 = hex::encode(Sha256::digest(&data));
            (sha256, keys.encrypt_blob(&aad, &data))
        })
        .await?;
        if let Err(e) = self.write(&id, sealed).await {
            // A partial object (never in a folder: the rename did not happen) is removed.
            let _ = self.delete(&id).await;
            return Err(e);
        }
        Ok(StoredFile {
            id,
            sha256,
            size: bytes.len() as u64,
            file_type,
            original_name: sanitize_name(declared_name),
            key_id: Some(key_id),
        })
    }

    /// [`FileStore::put_bytes`] and [`record_file`] in a transaction of its own, for an upload
    /// that stands alone (it is referenced by id later). The content is removed again when the
    /// row cannot be written.
    #[allow(clippy::too_many_arguments)]
    pub async fn put(
        &self,
        store: &Store,
        bytes: &[u8],
        declared_name: &str,
        allowed: &[FileType],
        max_bytes: usize,
        owner: &FileOwner<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<FileRecord> {
        let stored = self
            .put_bytes(bytes, declared_name, allowed, max_bytes)
            .await?;
        let result = async {
            let txn = store.begin_write().await?;
            let rec = record_file(&txn, &stored, owner, actor, now).await?;
            txn.commit().await?;
            Ok::<_, StoreError>(rec)
        }
        .await;
        if result.is_err() {
            let _ = self.delete(&stored.id).await;
        }
        result
    }

    /// The bytes of file `id` (after the caller's access check on [`get_file`]'s record).
    pub async fn open(&self, id: &str) -> Result<Vec<u8>> {
        let Some(b) = self.read(id).await? else {
            return Err(StoreError::NotFound { entity: "file" });
        };
        if blob_key_id(&b).is_none() {
            // A plaintext file from before encryption (converted at the next start).
            return Ok(b);
        }
        let keys = self.data_keys()?;
        let aad = file_aad(id);
        blocking(move || Ok(keys.decrypt_blob(&aad, &b)?)).await?
    }

    /// Bring file `id`'s content under the current data key (S14): a plaintext (legacy) file is
    /// sealed, one under another key of the ring opened and sealed again, atomically (see
    /// [`FileStore::write`]). Returns the key id it is under now and whether it was rewritten;
    /// `None` when there is no content.
    pub async fn reseal(&self, id: &str) -> Result<Option<(String, bool)>> {
        let Some(bytes) = self.read(id).await? else {
            return Ok(None);
        };
        let keys = self.data_keys()?;
        let current = keys.current_id().to_string();
        if blob_key_id(&bytes) == Some(current.as_str()) {
            return Ok(Some((current, false)));
        }
        let aad = file_aad(id);
        let sealed = blocking(move || {
            let plain = match blob_key_id(&bytes) {
                Some(_) => keys.decrypt_blob(&aad, &bytes)?,
                None => bytes,
            };
            Ok::<_, StoreError>(keys.encrypt_blob(&aad, &plain))
        })
        .await??;
        self.write(id, sealed).await?;
        Ok(Some((current, true)))
    }

    /// Remove file `id`'s content. Removing a missing file is not an error.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let Some(key) = self.key_of(id) else {
            return Err(StoreError::NotFound { entity: "file" });
        };
        match self.backend.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend_err("delete", e)),
        }
    }

    /// Whether file `id`'s content exists.
    pub async fn exists(&self, id: &str) -> bool {
        match self.key_of(id) {
            Some(key) => self.backend.store.head(&key).await.is_ok(),
            None => false,
        }
    }

    /// Delete contents that have no `files` row and are older than `older_than` (written before a
    /// crash or a rolled-back transaction); in a folder also stale leftovers of interrupted
    /// writes (`<id>#n` staging files, and `tmp/*.part` of earlier versions). Returns how many.
    pub async fn sweep_orphans(
        &self,
        store: &Store,
        older_than: std::time::Duration,
    ) -> Result<u64> {
        let cutoff =
            Utc::now() - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
        let mut listing = self.backend.store.list(Some(&self.backend.prefix));
        let mut old_ids = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = match meta {
                Ok(m) => m,
                // A file removed while listing (another server's sweep, a delete).
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(backend_err("list", e)),
            };
            if let Some(name) = meta.location.filename()
                && is_file_id(name)
                && meta.last_modified <= cutoff
            {
                old_ids.push(name.to_string());
            }
        }
        let mut removed = 0;
        for chunk in old_ids.chunks(500) {
            let known: std::collections::HashSet<String> = file::Entity::find()
                .select_only()
                .column(file::Column::Id)
                .filter(file::Column::Id.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(store.db())
                .await?
                .into_iter()
                .collect();
            for id in chunk.iter().filter(|id| !known.contains(*id)) {
                if self.delete(id).await.is_ok() {
                    removed += 1;
                }
            }
        }
        if let Some(root) = self.backend.folder.clone() {
            removed += blocking(move || remove_stale_leftovers(&root, older_than)).await?;
        }
        Ok(removed)
    }
}

impl FileKeys {
    fn given(data_dir: &Path, keys: Arc<DataKeys>) -> FileKeys {
        let ring = OnceLock::new();
        let _ = ring.set(keys);
        FileKeys {
            ring: Arc::new(ring),
            data_dir: data_dir.to_path_buf(),
        }
    }
}

fn backend_err(what: &str, e: object_store::Error) -> StoreError {
    // Keys are generated ids and the location holds no secret: safe to log.
    StoreError::Db(DbErr::Custom(format!("file store: {what}: {e}")))
}

/// Run blocking work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Db(DbErr::Custom(format!("file store: {e}"))))
}

/// S15: a stored file is the service account's alone (0600).
fn set_private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err("chmod", e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// In a folder: remove staging files of interrupted writes (`ab/cd/<id>#n`) and the temporary
/// files of earlier versions (`tmp/*.part`) older than `older_than`. Returns how many.
fn remove_stale_leftovers(root: &Path, older_than: std::time::Duration) -> u64 {
    let now = std::time::SystemTime::now();
    let old = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= older_than)
    };
    let read = |p: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(p)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let staged = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split_once('#'))
            .is_some_and(|(id, n)| {
                is_file_id(id) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let mut stale = Vec::new();
    for a in read(root) {
        if a.file_name().is_some_and(|n| n == "tmp") {
            stale.extend(
                read(&a).into_iter().filter(|p| {
                    p.extension().is_some_and(|e| e == "part") && p.is_file() && old(p)
                }),
            );
            continue;
        }
        for b in read(&a) {
            stale.extend(
                read(&b)
                    .into_iter()
                    .filter(|p| staged(p) && p.is_file() && old(p)),
            );
        }
    }
    stale
        .into_iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count() as u64
}

/// Who uploaded, what for, and whose it is: the metadata [`record_file`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOwner<'a> {
    /// E.g. `filing_document:training_plan`, `roster`, `signin_sheet`, `inspection_photo`.
    pub purpose: &'a str,
    pub institution_id: Option<i64>,
}

/// Write the `files` row for `file` inside the caller's transaction (next to its business row).
pub async fn record_file<C: ConnectionTrait>(
    txn: &C,
    file: &StoredFile,
    owner: &FileOwner<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<FileRecord> {
    if owner.purpose.is_empty()
        || owner.purpose.len() > 100
        || !owner
            .purpose
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'))
    {
        return Err(StoreError::validation(
            "FILE_PURPOSE",
            "文件用途须为1至100个英文字母、数字或 _ : . -",
            "purpose",
        ));
    }
    let m = file::ActiveModel {
        id: Set(file.id.clone()),
        sha256: Set(file.sha256.clone()),
        size: Set(i64::try_from(file.size).unwrap_or(i64::MAX)),
        mime: Set(file.file_type.mime().to_string()),
        original_name: Set(file.original_name.clone()),
        purpose: Set(owner.purpose.to_string()),
        institution_id: Set(owner.institution_id),
        uploaded_by: Set(actor.username.clone()),
        uploaded_by_user_id: Set(actor.user_id),
        uploaded_at: Set(db_time(now)),
        key_id: Set(file.key_id.clone()),
    }
    .insert(txn)
    .await?;
    Ok(m.into())
}

/// A file's metadata. `NotFound` for an unknown or malformed id.
pub async fn get_file<C: ConnectionTrait>(db: &C, id: &str) -> Result<FileRecord> {
    if !is_file_id(id) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    file::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .map(FileRecord::from)
        .ok_or(StoreError::NotFound { entity: "file" })
}

/// Delete a file's row inside the caller's transaction (then [`FileStore::delete`] its content
/// after the commit). Returns whether a row was deleted.
pub async fn delete_file_record<C: ConnectionTrait>(txn: &C, id: &str) -> Result<bool> {
    if !is_file_id(id) {
        return Ok(false);
    }
    let r = file::Entity::delete_by_id(id.to_string()).exec(txn).await?;
    Ok(r.rows_affected == 1)
}

/// The default read rule (S6, S7): the system, and the centre, bureau and city roles read any
/// file; an institution's users only their own institution's; the sysadmin and the auditor none
/// (files hold personal data). Callers may narrow it further by `purpose`.
pub fn may_read(viewer: &Actor, record: &FileRecord) -> bool {
    match viewer.role {
        None => viewer.is_system(),
        Some(Role::Sysadmin) | Some(Role::Auditor) => false,
        Some(r) if r.is_institution() => {
            record.institution_id.is_some() && viewer.institution_id == record.institution_id
        }
        Some(_) => true,
    }
}

/// The uploaded name made safe to show and to put in a header: the last path component, no
/// control or bidirectional-override characters, no leading dots, at most 120 characters
/// (keeping the extension); `"file"` when nothing is left.
pub fn sanitize_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .map(|c| if matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|') { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return "file".into();
    }
    const MAX: usize = 120;
    if trimmed.chars().count() <= MAX {
        return trimmed.to_string();
    }
    let (stem, ext) = match trimmed.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 10 => (s, Some(e)),
        _ => (trimmed, None),
    };
    let keep = MAX - ext.map_or(0, |e| e.chars().count() + 1);
    let mut out: String = stem.chars().take(keep).collect();
    if let Some(e) = ext {
        out.push('.');
        out.push_str(e);
    }
    out
}

/// `Content-Disposition` for a download: always `attachment`, an ASCII fallback `filename`
/// and the UTF-8 name as RFC 5987 `filename*=UTF-8''…`.
pub fn content_disposition(original_name: &str) -> String {
    let name = sanitize_name(original_name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\a\\培训计划.pdf"), "培训计划.pdf");
        assert_eq!(sanitize_name("evil\u{202E}gpj.exe"), "evilgpj.exe");
        assert_eq!(sanitize_name("a\r\nb\".pdf"), "ab_.pdf");
        assert_eq!(sanitize_name("..."), "file");
        assert_eq!(sanitize_name(""), "file");
        let long = format!("{}.xlsx", "长".repeat(300));
        let s = sanitize_name(&long);
        assert_eq!(s.chars().count(), 120);
        assert!(s.ends_with(".xlsx"));
    }

    #[test]
    fn content_disposition_is_rfc_5987() {
        assert_eq!(
            content_disposition("培训计划 v2.pdf"),
            "attachment; filename=\"____ v2.pdf\"; \
             filename*=UTF-8''%E5%9F%B9%E8%AE%AD%E8%AE%A1%E5%88%92%20v2.pdf"
        );
        let h = content_disposition("a\"b\r\n.pdf");
        assert!(!h.contains('\r') && !h.contains('\n'));
        assert!(h.starts_with("attachment; filename=\"a_b.pdf\""));
    }

    #[test]
    fn ids_are_checked_before_the_disk() {
        assert!(is_file_id(&new_id()));
        assert!(!is_file_id("../../../../etc/passwd"));
        assert!(!is_file_id("ABCDEF0123456789ABCDEF0123456789"));
        let fs = FileStore::local(Path::new("/data"));
        assert!(fs.path_of("..").is_none());
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            fs.path_of(id).unwrap(),
            PathBuf::from("/data/files/01/23").join(id)
        );
    }
}
