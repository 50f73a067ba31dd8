//! Where uploaded files live (issue 12 item 5): one setting for every command, `--files` or
//! `PEIXUN_FILES`, resolved here ([`FilesLocation::resolve`]) like the database URL is by
//! [`crate::resolve_database_url`].
//!
//! * **A folder** (the default `<data_dir>/files`, or any path, e.g. a shared NFS mount
//!   `/srv/shared/peixun-files`): object_store's local file system, writes staged beside the
//!   destination, fsynced and renamed into place; every folder 0700 and every file 0600 (S15).
//! * **An S3-compatible bucket**, `s3://bucket/prefix` (AWS S3, MinIO, Ceph, OSS/COS in S3 mode):
//!   credentials and endpoint from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for a non-AWS store, `AWS_ALLOW_HTTP`
//!   for plain HTTP on a private network). Needs a binary built with the `s3` feature
//!   (`cargo build --release -p peixun --features s3`); without it the location is refused at
//!   start, naming the command.
//!
//! Servers that share a database must share the files location: a folder they all mount, or a
//! bucket. One location per database: the orphan sweep removes content no row of *its* database
//! points to.

use crate::{Result, StoreError};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment variable of the files location.
pub const FILES_ENV: &str = "PEIXUN_FILES";

/// Where file contents are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesLocation {
    /// A folder on this machine (or one every server mounts).
    Folder(PathBuf),
    /// An S3-compatible bucket and a key prefix (`""`: the bucket's root).
    S3 { bucket: String, prefix: String },
}

fn refuse(message: String) -> StoreError {
    StoreError::validation("FILES_LOCATION", message, "files")
}

impl FilesLocation {
    /// The default: `<data_dir>/files`.
    pub fn default_for(data_dir: &Path) -> FilesLocation {
        FilesLocation::Folder(data_dir.join("files"))
    }

    /// `flag` (the `--files` option, which clap also fills from `PEIXUN_FILES`), else
    /// `PEIXUN_FILES`, else `<data_dir>/files`.
    pub fn resolve(flag: Option<&str>, data_dir: &Path) -> Result<FilesLocation> {
        let env = std::env::var(FILES_ENV).ok();
        match flag.or(env.as_deref()).map(str::trim) {
            Some(text) if !text.is_empty() => FilesLocation::parse(text),
            _ => Ok(FilesLocation::default_for(data_dir)),
        }
    }

    /// `s3://bucket[/prefix]`, `file:///absolute/path`, or a path.
    pub fn parse(text: &str) -> Result<FilesLocation> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !valid_bucket {
                return Err(refuse(format!(
                    "{FILES_ENV}：存储桶名称“{bucket}”无效（3至63个小写字母、数字、- 或 .），格式为 s3://存储桶/前缀"
                )));
            }
            let prefix = prefix.trim_matches('/').to_string();
            if ObjectPath::parse(&prefix).is_err() {
                return Err(refuse(format!(
                    "{FILES_ENV}：前缀“{prefix}”无效，格式为 s3://存储桶/前缀"
                )));
            }
            return Ok(FilesLocation::S3 {
                bucket: bucket.to_string(),
                prefix,
            });
        }
        if let Some(path) = text.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(refuse(format!(
                    "{FILES_ENV}：file:// 后须为绝对路径，如 file:///srv/peixun/files"
                )));
            }
            return Ok(FilesLocation::Folder(PathBuf::from(path)));
        }
        if text.contains("://") {
            return Err(refuse(format!(
                "{FILES_ENV}：不支持“{}”，请使用文件夹路径或 s3://存储桶/前缀",
                text.split("://").next().unwrap_or_default()
            )));
        }
        Ok(FilesLocation::Folder(PathBuf::from(text)))
    }

    /// For logs and messages (holds no secret: credentials come from `AWS_*`).
    pub fn describe(&self) -> String {
        match self {
            FilesLocation::Folder(p) => p.display().to_string(),
            FilesLocation::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            FilesLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// The object store behind a location: the store, the prefix of every key in it, and the
/// folder when it is one (S15 modes, leftovers of interrupted writes).
pub(crate) struct Backend {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: ObjectPath,
    pub folder: Option<PathBuf>,
}

pub(crate) fn open_backend(location: &FilesLocation) -> Result<Backend> {
    match location {
        FilesLocation::Folder(dir) => {
            // The root `/` and absolute keys: nothing is touched before the first write (the
            // folder is created then, 0700), unlike `LocalFileSystem::new_with_prefix`.
            let abs = std::path::absolute(dir)
                .map_err(|e| refuse(format!("文件夹 {}：{e}", dir.display())))?;
            let prefix = ObjectPath::from_absolute_path(&abs)
                .map_err(|e| refuse(format!("文件夹 {}：{e}", dir.display())))?;
            let fs = object_store::local::LocalFileSystem::new().with_fsync(true);
            Ok(Backend {
                store: Arc::new(fs),
                prefix,
                folder: Some(abs),
            })
        }
        FilesLocation::S3 { bucket, prefix } => s3_backend(bucket, prefix),
    }
}

#[cfg(feature = "s3")]
fn s3_backend(bucket: &str, prefix: &str) -> Result<Backend> {
    // reqwest's TLS without a built-in provider: the ring provider (already in the build through
    // sqlx's rustls). Installing it twice is harmless (the first wins).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| refuse(format!("{FILES_ENV}：无法配置 S3 存储（{e}）")))?;
    Ok(Backend {
        store: Arc::new(s3),
        prefix: ObjectPath::parse(prefix)
            .map_err(|e| refuse(format!("{FILES_ENV}：前缀无效（{e}）")))?,
        folder: None,
    })
}

#[cfg(not(feature = "s3"))]
fn s3_backend(bucket: &str, _prefix: &str) -> Result<Backend> {
    Err(refuse(format!(
        "{FILES_ENV}=s3://{bucket}/…：此 peixun 构建时未包含 S3 支持，请用 cargo build --release -p peixun --features s3 构建"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_refuse_with_a_reason() {
        assert_eq!(
            FilesLocation::parse("/srv/shared/files").unwrap(),
            FilesLocation::Folder("/srv/shared/files".into())
        );
        assert_eq!(
            FilesLocation::parse("file:///srv/x").unwrap(),
            FilesLocation::Folder("/srv/x".into())
        );
        assert_eq!(
            FilesLocation::parse("s3://peixun-files/haizhu/uploads/").unwrap(),
            FilesLocation::S3 {
                bucket: "peixun-files".into(),
                prefix: "haizhu/uploads".into()
            }
        );
        assert_eq!(
            FilesLocation::parse("s3://peixun").unwrap(),
            FilesLocation::S3 {
                bucket: "peixun".into(),
                prefix: String::new()
            }
        );
        for bad in ["s3://AB/x", "s3://", "gs://b/p", "file://relative"] {
            let e = FilesLocation::parse(bad).unwrap_err();
            assert_eq!(e.code(), "FILES_LOCATION", "{bad}");
        }
        assert_eq!(
            FilesLocation::resolve(Some("  "), Path::new("/data")).unwrap(),
            FilesLocation::default_for(Path::new("/data"))
        );
        assert_eq!(
            FilesLocation::S3 {
                bucket: "b".into(),
                prefix: "p/q".into()
            }
            .describe(),
            "s3://b/p/q"
        );
    }
}
