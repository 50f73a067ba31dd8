//! File type from content, never from the name (SECURITY.md S16).
//!
//! Binary formats are recognised by their magic bytes; Office files are zip archives told apart
//! by their entries (`[Content_Types].xml` plus `xl/` or `word/`). Anything that a browser could
//! render as a page or run — HTML, SVG, XML, scripts, executables — is [`FileType::Dangerous`],
//! whatever name or type it was uploaded under, so an HTML page disguised as a JPEG is refused.
//! Text is [`FileType::Csv`] when it is UTF-8 (BOM or not) or GB18030 without control bytes.

use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// The kinds of file peixun accepts, plus [`FileType::Dangerous`] for what it must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
    Xlsx,
    Docx,
    /// A zip archive that is not an Office document.
    Zip,
    /// CSV or plain text (UTF-8, with or without BOM, or GB18030/GBK).
    Csv,
    /// HTML, SVG, XML, a script or an executable: never stored, never served.
    Dangerous,
}

impl FileType {
    pub const ALL: [FileType; 8] = [
        FileType::Pdf,
        FileType::Jpeg,
        FileType::Png,
        FileType::Xlsx,
        FileType::Docx,
        FileType::Zip,
        FileType::Csv,
        FileType::Dangerous,
    ];

    /// The `Content-Type` to serve it with.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Zip => "application/zip",
            FileType::Csv => "text/csv; charset=utf-8",
            FileType::Dangerous => "application/octet-stream",
        }
    }

    /// The file-name extension (no dot).
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Xlsx => "xlsx",
            FileType::Docx => "docx",
            FileType::Zip => "zip",
            FileType::Csv => "csv",
            FileType::Dangerous => "bin",
        }
    }

    /// The name a user sees.
    pub fn label_zh(self) -> &'static str {
        match self {
            FileType::Pdf => "PDF文件",
            FileType::Jpeg => "JPEG图片",
            FileType::Png => "PNG图片",
            FileType::Xlsx => "Excel表格（.xlsx）",
            FileType::Docx => "Word文档（.docx）",
            FileType::Zip => "ZIP压缩包",
            FileType::Csv => "CSV/文本文件",
            FileType::Dangerous => "网页、脚本或可执行文件",
        }
    }

    /// The type for a stored MIME string (the inverse of [`FileType::mime`]).
    pub fn from_mime(mime: &str) -> Option<FileType> {
        FileType::ALL.into_iter().find(|t| t.mime() == mime)
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// How many leading bytes are searched for markup.
const MARKUP_WINDOW: usize = 8 * 1024;

/// The file's type from its content, `None` when it is none of [`FileType`] (including empty).
pub fn sniff(bytes: &[u8]) -> Option<FileType> {
    if bytes.is_empty() {
        return None;
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(FileType::Pdf);
    }
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        return Some(FileType::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Some(FileType::Png);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes);
    }
    if is_executable(bytes) || looks_like_markup(bytes) {
        return Some(FileType::Dangerous);
    }
    if is_text(bytes) {
        return Some(FileType::Csv);
    }
    None
}

/// An old binary Office file (.xls/.doc, OLE2 compound document).
pub fn is_legacy_office(bytes: &[u8]) -> bool {
    bytes.starts_with(OLE_MAGIC)
}

fn sniff_zip(bytes: &[u8]) -> Option<FileType> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut content_types = false;
    let mut xl = false;
    let mut word = false;
    for name in archive.file_names() {
        let Ok(name) = name else { continue };
        if name == "[Content_Types].xml" {
            content_types = true;
        } else if name.starts_with("xl/") {
            xl = true;
        } else if name.starts_with("word/") {
            word = true;
        }
    }
    Some(match (content_types, xl, word) {
        (true, true, false) => FileType::Xlsx,
        (true, false, true) => FileType::Docx,
        _ => FileType::Zip,
    })
}

fn is_executable(bytes: &[u8]) -> bool {
    bytes.starts_with(b"MZ")
        || bytes.starts_with(b"\x7FELF")
        || bytes.starts_with(b"#!")
        || bytes.starts_with(b"\xCA\xFE\xBA\xBE")
        || bytes.starts_with(b"\xCF\xFA\xED\xFE")
}

/// The leading text as lower-case ASCII-ish bytes: UTF-16 is decoded first, so markup hidden
/// behind a UTF-16 BOM is found too.
fn leading_text(bytes: &[u8]) -> Vec<u8> {
    let window = &bytes[..bytes.len().min(MARKUP_WINDOW)];
    let decoded: Vec<u8> = if window.starts_with(b"\xFF\xFE") || window.starts_with(b"\xFE\xFF") {
        let enc = if window[0] == 0xFF {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (s, _) = enc.decode_without_bom_handling(&window[2..]);
        s.into_owned().into_bytes()
    } else {
        window.to_vec()
    };
    // Drop NULs so that "<\0s\0v\0g" style padding does not hide a tag.
    decoded
        .into_iter()
        .filter(|&b| b != 0)
        .map(|b| b.to_ascii_lowercase())
        .collect()
}

/// Tags a browser sniffs as HTML (WHATWG MIME Sniffing §7.1) when they open the document, and
/// markup that runs anywhere in the first [`MARKUP_WINDOW`] bytes.
fn looks_like_markup(bytes: &[u8]) -> bool {
    const LEADING: [&[u8]; 19] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
        b"<?xml",
        b"<svg",
    ];
    const ANYWHERE: [&[u8]; 12] = [
        b"<script",
        b"<svg",
        b"<html",
        b"<body",
        b"<iframe",
        b"<object",
        b"<embed",
        b"<!doctype",
        b"<?xml",
        b"<xsl:",
        b"<meta",
        b"javascript:",
    ];
    let text = leading_text(bytes);
    let start = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C))
        .unwrap_or(text.len());
    let mut head = &text[start..];
    if let Some(rest) = head.strip_prefix(b"\xEF\xBB\xBF") {
        head = rest;
    }
    let head = {
        let s = head
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C))
            .unwrap_or(head.len());
        &head[s..]
    };
    for pat in LEADING {
        if let Some(after) = head.strip_prefix(pat) {
            let tag_end = after
                .first()
                .is_none_or(|b| matches!(b, b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'/'));
            if tag_end || pat == b"<!--" || pat == b"<?xml" {
                return true;
            }
        }
    }
    ANYWHERE.iter().any(|pat| contains(&text, pat))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn is_text(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.is_empty() {
        // A BOM alone: text, but empty.
        return true;
    }
    if body.contains(&0) {
        return false;
    }
    let control = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    match std::str::from_utf8(body) {
        Ok(s) => !s.chars().any(control),
        Err(_) => match decode_gb18030(body) {
            Some(s) => !s.chars().any(control),
            None => false,
        },
    }
}

/// Decode GB18030 (a superset of GBK and GB2312); `None` when the bytes are not valid GB18030.
pub(crate) fn decode_gb18030(bytes: &[u8]) -> Option<String> {
    let (s, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        None
    } else {
        Some(s.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_round_trips() {
        for t in FileType::ALL {
            assert_eq!(FileType::from_mime(t.mime()), Some(t));
        }
    }
}
