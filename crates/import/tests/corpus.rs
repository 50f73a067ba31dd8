//! SECURITY.md S17: every file of the saved fuzz corpus (`fuzz/corpus/<target>/`) is replayed
//! through the same code the cargo-fuzz targets run, so CI checks the corpus without cargo-fuzz.
//! New crashes found by `cargo fuzz run` are saved into the corpus and replayed here forever.
//!
//! `PEIXUN_WRITE_CORPUS=1 cargo test -p peixun-import --test corpus -- --ignored` rewrites the
//! seed files (the fuzzer's own finds are kept).

use peixun_domain::credit_code::CreditCode;
use peixun_domain::ids::PersonId;
use peixun_import::{FileType, read_roster, read_roster_detailed, sniff};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn files(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir().join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    out.sort();
    out
}

/// The body of `fuzz/fuzz_targets/sniff.rs`.
fn sniff_target(data: &[u8]) {
    if let Some(t) = sniff(data) {
        let _ = (t.mime(), t.extension(), t.label_zh());
    }
}

/// The body of `fuzz/fuzz_targets/read_roster.rs`.
fn read_roster_target(data: &[u8]) {
    let _ = read_roster(data, None);
    let _ = read_roster_detailed(data, Some(FileType::Csv));
}

/// The body of `fuzz/fuzz_targets/person_id.rs`.
fn person_id_target(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(id) = PersonId::parse(s)
    {
        assert_eq!(PersonId::parse(id.as_str()).ok().as_ref(), Some(&id));
        let _ = id.masked();
        let _ = id.birth_date();
    }
}

/// The body of `fuzz/fuzz_targets/credit_code.rs`.
fn credit_code_target(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = CreditCode::parse(s) {
            assert_eq!(CreditCode::parse(c.as_str()).ok().as_ref(), Some(&c));
            let _ = (c.authority_label(), c.category_label(), c.region_code());
        }
        let _ = CreditCode::parse_lenient(s);
    }
}

/// The body of `fuzz/fuzz_targets/archive_zip.rs`.
fn archive_zip_target(data: &[u8]) {
    use peixun_import::archive_zip::{ArchiveZip, ZipLimits};
    let limits = ZipLimits {
        max_bytes: 1 << 20,
        max_entries: 64,
        max_entry_bytes: 1 << 20,
        max_unpacked_bytes: 4 << 20,
    };
    if let Ok(mut z) = ArchiveZip::open(data.to_vec(), limits) {
        let entries = z.entries().to_vec();
        for e in entries {
            let _ = z.read(e.index);
            let _ = peixun_domain::archive::match_entry(&e.name, &[], &[]);
        }
    }
}

/// A fuzz target's body.
type Target = fn(&[u8]);

#[test]
fn s17_replay_saved_fuzz_corpus() {
    let targets: [(&str, Target); 5] = [
        ("sniff", sniff_target),
        ("read_roster", read_roster_target),
        ("person_id", person_id_target),
        ("credit_code", credit_code_target),
        ("archive_zip", archive_zip_target),
    ];
    let mut total = 0;
    for (name, run) in targets {
        let inputs = files(name);
        assert!(
            inputs.len() >= 5,
            "corpus for {name} has {} files",
            inputs.len()
        );
        for (path, bytes) in &inputs {
            let r = std::panic::catch_unwind(|| run(bytes));
            assert!(r.is_ok(), "{name} panicked on {}", path.display());
        }
        total += inputs.len();
    }
    // The roster inputs also go through sniff, and the other way round.
    for (_, bytes) in files("sniff").iter().chain(files("read_roster").iter()) {
        sniff_target(bytes);
        read_roster_target(bytes);
    }
    assert!(total >= 20);
}

/// The seed corpus: the shapes each parser must handle.
#[test]
#[ignore = "writes fuzz/corpus; run with PEIXUN_WRITE_CORPUS=1"]
fn write_seed_corpus() {
    if std::env::var("PEIXUN_WRITE_CORPUS").is_err() {
        return;
    }
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus_dir().join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let template = peixun_import::roster_template_xlsx().unwrap();
    let small = peixun_import::synthetic_roster_xlsx(3, 1).unwrap();
    let csv_utf8 = "姓名,证件类型,证件号码,手机号码,户籍/居住地,重点对象类别\n陈志强,居民身份证,44010519850612123X,13800138000,广东省内,\n";
    let mut csv_bom = b"\xEF\xBB\xBF".to_vec();
    csv_bom.extend_from_slice(csv_utf8.as_bytes());
    let (gbk, _, _) = encoding_rs::GBK.encode(csv_utf8);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("template.xlsx", template.clone()),
        ("small.xlsx", small.clone()),
        ("truncated.xlsx", small[..small.len() / 2].to_vec()),
        ("roster_utf8.csv", csv_utf8.as_bytes().to_vec()),
        ("roster_bom.csv", csv_bom),
        ("roster_gbk.csv", gbk.into_owned()),
        (
            "quoted.csv",
            b"\"a\nb\",\"c\"\"d\"\r\n,,,\r\n\"unterminated".to_vec(),
        ),
        (
            "html.jpg",
            b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec(),
        ),
        (
            "svg.jpg",
            b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>".to_vec(),
        ),
        ("utf16_html", {
            let mut v = b"\xFF\xFE".to_vec();
            for c in "<html>".encode_utf16() {
                v.extend_from_slice(&c.to_le_bytes());
            }
            v
        }),
        ("header.pdf", b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec()),
        ("header.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ("header.jpg", b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec()),
        (
            "legacy.xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec(),
        ),
        (
            "empty_zip",
            b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
        ),
        ("empty", vec![]),
    ];
    for (name, bytes) in &files {
        put("sniff", name, bytes);
        put("read_roster", name, bytes);
    }
    let citizen = |first17: &str| {
        format!(
            "{first17}{}",
            peixun_domain::ids::check_char(first17).unwrap()
        )
    };
    let ids = [
        ("citizen", citizen("44010519850612123")),
        (
            "citizen_lower_x",
            citizen("11010519491231002").to_lowercase(),
        ),
        ("citizen_bad_check", "440105198506121230".to_string()),
        ("hk_permit_8", "H12345678".to_string()),
        ("hk_permit_10", "M1234567801".to_string()),
        ("taiwan_permit", "12345678".to_string()),
        ("hk_residence", citizen("81000019900101123")),
        ("foreigner_2023", citizen("93115619900101123")),
        ("legacy_15", "440105850612123".to_string()),
        (
            "full_width",
            "４４０１０５１９８５０６１２１２３Ｘ".to_string(),
        ),
        ("spaces", " 440105 19850612123X ".to_string()),
        ("empty", String::new()),
    ];
    for (name, v) in ids {
        put("person_id", name, v.as_bytes());
    }
    let credit = |first17: &str| {
        format!(
            "{first17}{}",
            peixun_domain::credit_code::check_char(first17).unwrap()
        )
    };
    let codes = [
        ("valid", credit("52440105000000001")),
        ("lowercase", credit("52440105000000001").to_lowercase()),
        ("bad_check", "524401050000000010".to_string()),
        ("letters_io", "91440101MA5CIOIO0X".to_string()),
        ("short", "9144010".to_string()),
        (
            "full_width",
            "９１４４０１０１ＭＡ５ＣＹＡ２Ｘ２Ｙ".to_string(),
        ),
        ("empty", String::new()),
    ];
    for (name, v) in codes {
        put("credit_code", name, v.as_bytes());
    }
}
