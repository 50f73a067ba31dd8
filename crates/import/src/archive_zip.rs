//! The class archive's bulk upload and download as .zip (R-ARC-2, SECURITY.md S16, S17).
//!
//! Reading ([`ArchiveZip::open`]) checks the whole archive before anything is read out, and
//! refuses it as a whole ([`ImportError`] with a Chinese message) when:
//! * it is not a zip, is larger than [`ZipLimits::max_bytes`], or holds more than
//!   [`ZipLimits::max_entries`] entries;
//! * an entry's name is absolute, has a drive letter, a `..` component, or control characters
//!   (path traversal — nothing is ever written under these names, but such a zip is hostile);
//! * an entry is itself an archive (.zip .rar .7z .tar .gz, by name or by content; an Office
//!   file named .xlsx/.docx may be a zip inside — it is never unpacked): no nesting;
//! * an entry is encrypted, or unpacks past [`ZipLimits::max_entry_bytes`], or all entries
//!   together past [`ZipLimits::max_unpacked_bytes`] — counted by really inflating (into
//!   nothing), never trusting the sizes the archive declares.
//!
//! Names without the UTF-8 flag are decoded as UTF-8 when valid, else as GBK (zips made by
//! Windows in China). Folders and macOS metadata (`__MACOSX/`, `._*`, `.DS_Store`) are skipped.
//!
//! Writing ([`ArchiveZipWriter`]) stores entries uncompressed (PDFs and images are compressed
//! already) one at a time, so the caller never holds more than one document besides the zip.
//! [`index_xlsx`] writes the index workbook.

use crate::roster::ImportError;
use std::io::{Cursor, Read, Seek, Write};

/// Limits of a bulk upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// The .zip itself.
    pub max_bytes: usize,
    /// Entries (files and folders).
    pub max_entries: usize,
    /// One entry, unpacked.
    pub max_entry_bytes: u64,
    /// All entries, unpacked.
    pub max_unpacked_bytes: u64,
}

/// The largest .zip accepted (100 MiB).
pub const MAX_ZIP_BYTES: usize = 100 * 1024 * 1024;

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_bytes: MAX_ZIP_BYTES,
            max_entries: 2_000,
            max_entry_bytes: 20 * 1024 * 1024,
            max_unpacked_bytes: 300 * 1024 * 1024,
        }
    }
}

/// One file in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntryInfo {
    pub index: usize,
    /// The decoded name, `/`-separated.
    pub name: String,
}

/// An archive that passed every check of [`ArchiveZip::open`].
pub struct ArchiveZip {
    archive: zip::ZipArchive<Cursor<Vec<u8>>>,
    entries: Vec<ZipEntryInfo>,
    limits: ZipLimits,
}

impl std::fmt::Debug for ArchiveZip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveZip")
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn refuse(code: &'static str, message: impl Into<String>) -> ImportError {
    ImportError::new(code, message)
}

fn corrupt(e: impl std::fmt::Display) -> ImportError {
    let d: String = e.to_string().chars().take(120).collect();
    refuse(
        "ZIP_CORRUPT",
        format!("压缩包已损坏或不是zip格式，请重新打包后上传（{d}）"),
    )
}

fn mib(n: u64) -> u64 {
    n / 1024 / 1024
}

/// The entry's name: UTF-8 when the flag says so or the bytes are valid UTF-8, else GBK.
fn decode_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(raw).0.into_owned(),
    }
}

/// Why `name` is hostile (traversal, absolute, control characters), if it is.
fn bad_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("文件名为空");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Some("文件名含控制字符");
    }
    let n = name.replace('\\', "/");
    if n.starts_with('/') {
        return Some("文件名是绝对路径");
    }
    let b = n.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("文件名含盘符");
    }
    if n.split('/').any(|c| c == "..") {
        return Some("文件名含“..”（路径穿越）");
    }
    None
}

const NESTED_EXTENSIONS: [&str; 8] = ["zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz"];

fn is_archive_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, e)| NESTED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_archive_magic(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
        || head.starts_with(b"Rar!")
        || head.starts_with(b"7z\xBC\xAF\x27\x1C")
        || head.starts_with(&[0x1F, 0x8B])
        || head.starts_with(b"BZh")
        || head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0])
}

fn is_junk(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or("");
    name.starts_with("__MACOSX/")
        || last.starts_with("._")
        || last == ".DS_Store"
        || last.eq_ignore_ascii_case("Thumbs.db")
        || last.eq_ignore_ascii_case("desktop.ini")
}

impl ArchiveZip {
    /// Check `bytes` as a bulk upload (every rule in the module notes). Blocking: call it off
    /// the async workers.
    pub fn open(bytes: Vec<u8>, limits: ZipLimits) -> Result<ArchiveZip, ImportError> {
        if bytes.len() > limits.max_bytes {
            return Err(refuse(
                "ZIP_TOO_LARGE",
                format!("压缩包不能超过{} MB", mib(limits.max_bytes as u64)),
            ));
        }
        // The zip crate is not known to panic on bad input; a hostile upload must never take the
        // server down, so a panic becomes ZIP_CORRUPT.
        match std::panic::catch_unwind(move || Self::open_inner(bytes, limits)) {
            Ok(r) => r,
            Err(_) => Err(corrupt("parser panic")),
        }
    }

    fn open_inner(bytes: Vec<u8>, limits: ZipLimits) -> Result<ArchiveZip, ImportError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
        if archive.len() > limits.max_entries {
            return Err(refuse(
                "ZIP_TOO_MANY_ENTRIES",
                format!(
                    "压缩包内文件过多（{}个），一次最多{}个",
                    archive.len(),
                    limits.max_entries
                ),
            ));
        }
        let too_large_total = || {
            refuse(
                "ZIP_UNPACKED_TOO_LARGE",
                format!(
                    "压缩包解压后过大（超过{} MB），请分批上传",
                    mib(limits.max_unpacked_bytes)
                ),
            )
        };
        let too_large_entry = |name: &str| {
            refuse(
                "ZIP_ENTRY_TOO_LARGE",
                format!(
                    "压缩包内文件“{name}”解压后超过{} MB",
                    mib(limits.max_entry_bytes)
                ),
            )
        };
        // Names and declared sizes first (cheap), then the real sizes.
        let mut entries = Vec::new();
        let mut declared: u64 = 0;
        for i in 0..archive.len() {
            let f = archive.by_index_raw(i).map_err(corrupt)?;
            let name = decode_name(f.name_raw());
            if let Some(why) = bad_name(&name) {
                return Err(refuse(
                    "ZIP_BAD_NAME",
                    format!(
                        "压缩包内有不安全的文件名“{}”：{why}，已整体拒收",
                        name.escape_debug()
                    ),
                ));
            }
            let name = name.replace('\\', "/");
            if f.encrypted() {
                return Err(refuse(
                    "ZIP_ENCRYPTED",
                    format!("压缩包内文件“{name}”已加密，请去掉密码后重新打包"),
                ));
            }
            if f.is_dir() || name.ends_with('/') {
                continue;
            }
            if is_archive_name(&name) {
                return Err(refuse(
                    "ZIP_NESTED",
                    format!("压缩包内不能再含压缩包（“{name}”），请解开后重新打包"),
                ));
            }
            if f.size() > limits.max_entry_bytes {
                return Err(too_large_entry(&name));
            }
            declared = declared.saturating_add(f.size());
            if declared > limits.max_unpacked_bytes {
                return Err(too_large_total());
            }
            if is_junk(&name) {
                continue;
            }
            entries.push(ZipEntryInfo { index: i, name });
        }
        let mut total: u64 = 0;
        for e in &entries {
            let f = archive.by_index(e.index).map_err(corrupt)?;
            let budget = limits.max_entry_bytes + 1;
            let mut r = f.take(budget);
            let mut head = [0u8; 8];
            let mut got = 0;
            while got < head.len() {
                let n = r.read(&mut head[got..]).map_err(corrupt)?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            // Office files are zips too: they are not unpacked here (and are not archive
            // documents: the matcher reports them), so only they may carry zip magic.
            let office = e.name.rsplit_once('.').is_some_and(|(_, x)| {
                matches!(x.to_ascii_lowercase().as_str(), "xlsx" | "docx" | "pptx")
            });
            if is_archive_magic(&head[..got]) && !(office && head.starts_with(b"PK")) {
                return Err(refuse(
                    "ZIP_NESTED",
                    format!("压缩包内不能再含压缩包（“{}”），请解开后重新打包", e.name),
                ));
            }
            let n = got as u64 + std::io::copy(&mut r, &mut std::io::sink()).map_err(corrupt)?;
            if n > limits.max_entry_bytes {
                return Err(too_large_entry(&e.name));
            }
            total += n;
            if total > limits.max_unpacked_bytes {
                return Err(too_large_total());
            }
        }
        Ok(ArchiveZip {
            archive,
            entries,
            limits,
        })
    }

    /// The files in the archive (no folders, no macOS metadata), in archive order.
    pub fn entries(&self) -> &[ZipEntryInfo] {
        &self.entries
    }

    /// The content of entry `index` (from [`ArchiveZip::entries`]).
    pub fn read(&mut self, index: usize) -> Result<Vec<u8>, ImportError> {
        let f = self.archive.by_index(index).map_err(corrupt)?;
        let mut out = Vec::with_capacity(f.size().min(self.limits.max_entry_bytes) as usize);
        f.take(self.limits.max_entry_bytes + 1)
            .read_to_end(&mut out)
            .map_err(corrupt)?;
        if out.len() as u64 > self.limits.max_entry_bytes {
            return Err(refuse("ZIP_ENTRY_TOO_LARGE", "压缩包内文件过大"));
        }
        Ok(out)
    }
}

/// A zip being written, one entry at a time (stored, not compressed).
pub struct ArchiveZipWriter<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
}

fn write_err(e: impl std::fmt::Display) -> ImportError {
    refuse("ZIP_WRITE", format!("生成压缩包失败：{e}"))
}

impl<W: Write + Seek> ArchiveZipWriter<W> {
    pub fn new(w: W) -> Self {
        ArchiveZipWriter {
            zip: zip::ZipWriter::new(w),
        }
    }

    /// Add `bytes` as `path` (UTF-8 name; the caller makes it safe).
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ImportError> {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        self.zip.start_file(path, opts).map_err(write_err)?;
        self.zip.write_all(bytes).map_err(write_err)
    }

    /// Write the central directory; returns the writer.
    pub fn finish(self) -> Result<W, ImportError> {
        self.zip.finish().map_err(write_err)
    }
}

/// One sheet of the index workbook: a few label/value lines on top, then a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSheet {
    pub name: String,
    pub info: Vec<(String, String)>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The index workbook (.xlsx): every cell text. The table's header is the row after `info`
/// and a blank line (row `info.len() + 2`, 1-based).
pub fn index_xlsx(sheets: &[IndexSheet]) -> Result<Vec<u8>, ImportError> {
    use rust_xlsxwriter::{Format, Workbook};
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let header = Format::new().set_bold().set_background_color("#DDEBF7");
        for s in sheets {
            let sheet = book.add_worksheet();
            sheet.set_name(&s.name)?;
            for (r, (k, v)) in s.info.iter().enumerate() {
                sheet.write_string_with_format(r as u32, 0, k, &bold)?;
                sheet.write_string(r as u32, 1, v)?;
            }
            let top = if s.info.is_empty() {
                0
            } else {
                s.info.len() as u32 + 1
            };
            for (c, h) in s.headers.iter().enumerate() {
                sheet.write_string_with_format(top, c as u16, h, &header)?;
                sheet.set_column_width(c as u16, 14)?;
            }
            for (r, row) in s.rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    sheet.write_string(top + 1 + r as u32, c as u16, v)?;
                }
            }
            sheet.set_freeze_panes(top + 1, 0)?;
        }
        book.save_to_buffer()
    };
    build().map_err(|e| refuse("ZIP_INDEX", format!("生成档案目录失败：{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (n, b) in entries {
            w.start_file(
                *n,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated),
            )
            .unwrap();
            w.write_all(b).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const PDF: &[u8] = b"%PDF-1.4\n%test\n";

    #[test]
    fn s17_zip_reads_names_and_contents() {
        let z = zip_of(&[
            ("03_张三/身份证.pdf", PDF),
            ("__MACOSX/._x.pdf", b"junk"),
            ("签到表.pdf", PDF),
        ]);
        let mut a = ArchiveZip::open(z, ZipLimits::default()).unwrap();
        let names: Vec<String> = a.entries().iter().map(|e| e.name.clone()).collect();
        assert_eq!(names, vec!["03_张三/身份证.pdf", "签到表.pdf"]);
        let i = a.entries()[0].index;
        assert_eq!(a.read(i).unwrap(), PDF);
    }

    #[test]
    fn s17_zip_refuses_path_traversal() {
        for n in [
            "../evil.pdf",
            "a/../../evil.pdf",
            "/etc/passwd",
            "C:/x.pdf",
            "a\\..\\b.pdf",
        ] {
            let e = ArchiveZip::open(zip_of(&[(n, PDF)]), ZipLimits::default()).unwrap_err();
            assert_eq!(e.code, "ZIP_BAD_NAME", "{n}");
        }
    }

    #[test]
    fn s17_zip_refuses_nested_archives_by_name_and_content() {
        let inner = zip_of(&[("a.pdf", PDF)]);
        let e =
            ArchiveZip::open(zip_of(&[("inner.zip", &inner)]), ZipLimits::default()).unwrap_err();
        assert_eq!(e.code, "ZIP_NESTED");
        let e = ArchiveZip::open(zip_of(&[("张三_身份证.pdf", &inner)]), ZipLimits::default())
            .unwrap_err();
        assert_eq!(e.code, "ZIP_NESTED");
    }

    #[test]
    fn s17_zip_limits_count_size_and_bombs() {
        let many: Vec<(String, &[u8])> = (0..11).map(|i| (format!("{i}.pdf"), PDF)).collect();
        let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let small = ZipLimits {
            max_bytes: 1 << 20,
            max_entries: 10,
            max_entry_bytes: 1000,
            max_unpacked_bytes: 3000,
        };
        assert_eq!(
            ArchiveZip::open(zip_of(&refs), small).unwrap_err().code,
            "ZIP_TOO_MANY_ENTRIES"
        );
        // One entry of 2 KB (declared honestly here; the inflate pass catches lies).
        let big = vec![b'a'; 2000];
        assert_eq!(
            ArchiveZip::open(zip_of(&[("a.pdf", &big)]), small)
                .unwrap_err()
                .code,
            "ZIP_ENTRY_TOO_LARGE"
        );
        let parts = vec![b'a'; 900];
        let four: Vec<(&str, &[u8])> = vec![
            ("a.pdf", &parts),
            ("b.pdf", &parts),
            ("c.pdf", &parts),
            ("d.pdf", &parts),
        ];
        assert_eq!(
            ArchiveZip::open(zip_of(&four), small).unwrap_err().code,
            "ZIP_UNPACKED_TOO_LARGE"
        );
        let tiny = ZipLimits {
            max_bytes: 10,
            ..small
        };
        assert_eq!(
            ArchiveZip::open(zip_of(&[("a.pdf", PDF)]), tiny)
                .unwrap_err()
                .code,
            "ZIP_TOO_LARGE"
        );
        assert_eq!(
            ArchiveZip::open(b"not a zip".to_vec(), small)
                .unwrap_err()
                .code,
            "ZIP_CORRUPT"
        );
    }

    #[test]
    fn gbk_names_are_decoded() {
        let (gbk, _, _) = encoding_rs::GBK.encode("张三_身份证.pdf");
        assert_eq!(decode_name(&gbk), "张三_身份证.pdf");
    }

    #[test]
    fn writer_round_trips() {
        let mut w = ArchiveZipWriter::new(Cursor::new(Vec::new()));
        w.add("03_张三/身份证.pdf", PDF).unwrap();
        w.add(
            "index.xlsx",
            &index_xlsx(&[IndexSheet {
                name: "目录".into(),
                info: vec![("班级".into(), "1".into())],
                headers: vec!["姓名".into()],
                rows: vec![vec!["张三".into()]],
            }])
            .unwrap(),
        )
        .unwrap();
        let z = w.finish().unwrap().into_inner();
        // A downloaded archive uploads again: its index (an Office zip) is not "nested".
        let a = ArchiveZip::open(z, ZipLimits::default()).unwrap();
        assert_eq!(a.entries().len(), 2);
    }
}
