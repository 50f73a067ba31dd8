//! The writes the harness drives through the API, what it remembers of their answers, and the
//! check after a restart.
//!
//! Every record's content is a function of (cycle, writer, sequence[, version]), and the name
//! carries those numbers, so any record found in the database can be checked whole — also one
//! whose request was in flight at the kill and never answered (present or absent, but never
//! half-written: its qualification rows and its encrypted ID number come with it or not at all).
//!
//! Each writer of a cycle creates a "home" institution first, then in a seeded random mix:
//! creates institutions, creates teachers at its home (ID numbers encrypted at rest, S14), and
//! updates its home (contact and the qualification rows, replaced in the same transaction).

use super::http::{NoAnswer, Resp, request};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A seeded generator (SplitMix64): the harness prints its seed, so a run can be repeated.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const OCCUPATIONS: [&str; 4] = ["家政服务员", "育婴员", "中式烹调师", "养老护理员"];
const LEVELS: [&str; 3] = ["初级", "中级", "高级"];

fn serial(cycle: u32, w: u32, seq: u32) -> u32 {
    cycle * 10_000 + w * 1_000 + seq
}

/// The name tag of a cycle's institutions (`q` of the directory search finds them all).
pub fn cycle_tag(cycle: u32) -> String {
    format!("崩溃测试C{cycle:04}W")
}

fn inst_name(cycle: u32, w: u32, seq: u32) -> String {
    format!("{}{w}N{seq:03}职业培训学校", cycle_tag(cycle))
}

/// `(writer, seq)` from a name made by [`inst_name`] for `cycle`.
fn parse_inst_name(cycle: u32, name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix(&cycle_tag(cycle))?;
    let rest = rest.strip_suffix("职业培训学校")?;
    let (w, seq) = rest.split_once('N')?;
    Some((w.parse().ok()?, seq.parse().ok()?))
}

fn credit_code(serial: u32) -> String {
    let first17 = format!("52440105{serial:09}");
    let check = peixun_domain::credit_code::check_char(&first17).expect("17 valid characters");
    format!("{first17}{check}")
}

/// What an institution must hold: creation is version 0, each update of a home one more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inst {
    name: String,
    credit_code: String,
    registered_address: String,
    contact_person: String,
    contact_phone: String,
    qualifications: BTreeSet<(String, String)>,
    status: String,
}

pub fn inst(cycle: u32, w: u32, seq: u32, version: u32) -> Inst {
    let s = serial(cycle, w, seq);
    let n = 1 + ((s + version) % 3) as usize;
    Inst {
        name: inst_name(cycle, w, seq),
        credit_code: credit_code(s),
        registered_address: format!("广州市海珠区测试路{cycle}号{w}栋{seq}室"),
        contact_person: format!("联系人{version}号"),
        contact_phone: format!("138{:08}", (s * 7 + version) % 100_000_000),
        qualifications: (0..n)
            .map(|i| {
                (
                    OCCUPATIONS[(i + version as usize) % OCCUPATIONS.len()].to_string(),
                    LEVELS[(i + s as usize) % LEVELS.len()].to_string(),
                )
            })
            .collect(),
        status: "active".into(),
    }
}

fn inst_body(i: &Inst) -> Value {
    json!({
        "name": i.name,
        "credit_code": i.credit_code,
        "registered_address": i.registered_address,
        "contact_person": i.contact_person,
        "contact_phone": i.contact_phone,
        "qualifications": i.qualifications.iter()
            .map(|(o, l)| json!({"occupation": o, "level": l}))
            .collect::<Vec<_>>(),
        "status": i.status,
    })
}

fn inst_from_json(v: &Value) -> Inst {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Inst {
        name: s("name"),
        credit_code: s("credit_code"),
        registered_address: s("registered_address"),
        contact_person: s("contact_person"),
        contact_phone: s("contact_phone"),
        qualifications: v["qualifications"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| {
                (
                    q["occupation"].as_str().unwrap_or_default().to_string(),
                    q["level"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        status: s("status"),
    }
}

/// What a teacher must hold (the API shows the ID number masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teacher {
    name: String,
    id_number_masked: String,
    phone: String,
    qualifications: BTreeSet<(String, String, String)>,
    active: bool,
}

fn teacher_id_number(cycle: u32, w: u32, seq: u32) -> String {
    let first17 = format!(
        "440105{:04}{:02}{:02}{seq:03}",
        1970 + cycle % 30,
        1 + w % 12,
        1 + cycle % 28
    );
    let check = peixun_domain::ids::check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

fn teacher_body(cycle: u32, w: u32, seq: u32) -> Value {
    let t = teacher(cycle, w, seq);
    json!({
        "name": t.name,
        "id_number": teacher_id_number(cycle, w, seq),
        "phone": t.phone,
        "qualifications": t.qualifications.iter()
            .map(|(o, l, c)| json!({"occupation": o, "level": l, "certificate_no": c}))
            .collect::<Vec<_>>(),
        "active": t.active,
    })
}

pub fn teacher(cycle: u32, w: u32, seq: u32) -> Teacher {
    let s = serial(cycle, w, seq);
    Teacher {
        name: format!("教师C{cycle}W{w}N{seq}"),
        id_number_masked: peixun_domain::ids::mask_id(&teacher_id_number(cycle, w, seq)),
        phone: format!("139{:08}", s % 100_000_000),
        qualifications: [(
            OCCUPATIONS[(s as usize) % OCCUPATIONS.len()].to_string(),
            LEVELS[(s as usize) % LEVELS.len()].to_string(),
            format!("CERT-C{cycle}W{w}N{seq}"),
        )]
        .into(),
        active: true,
    }
}

fn teacher_from_json(v: &Value) -> Teacher {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Teacher {
        name: s("name"),
        id_number_masked: s("id_number_masked"),
        phone: s("phone"),
        qualifications: v["qualifications"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| {
                let f = |k: &str| q[k].as_str().unwrap_or_default().to_string();
                (f("occupation"), f("level"), f("certificate_no"))
            })
            .collect(),
        active: v["active"].as_bool().unwrap_or(false),
    }
}

/// What one writer of one cycle sent and what came back. "In flight": sent, no answer (the
/// kill came first) — each writer has at most one request in flight.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub cycle: u32,
    pub writer: u32,
    /// The home institution: `Some(id)` once acknowledged.
    pub home: Option<i64>,
    pub home_in_flight: bool,
    /// Acknowledged institution creations: seq → id (home excluded).
    pub insts: BTreeMap<u32, i64>,
    pub inst_in_flight: Option<u32>,
    /// Acknowledged teacher creations at home: seq → id.
    pub teachers: BTreeMap<u32, i64>,
    pub teacher_in_flight: Option<u32>,
    /// The home's last acknowledged version (0: as created).
    pub version: u32,
    pub update_in_flight: Option<u32>,
    /// Acknowledged updates.
    pub updates: u32,
    /// When the first unanswered request failed (to compare with the kill's time).
    pub no_answer_at: Option<(Instant, String)>,
    /// An answer that was not 2xx: a defect (the kill cannot produce an answer).
    pub refused: Vec<String>,
}

impl Ledger {
    pub fn acknowledged(&self) -> u64 {
        u64::from(self.home.is_some())
            + self.insts.len() as u64
            + self.teachers.len() as u64
            + u64::from(self.updates)
    }
}

/// One writer: sends writes one after another until `stop`, `max_ops`, or the first request
/// without an answer (the server is gone).
pub fn run_writer(
    port: u16,
    token: &str,
    cycle: u32,
    w: u32,
    mut rng: Rng,
    max_ops: u32,
    stop: Arc<AtomicBool>,
) -> Ledger {
    let mut l = Ledger {
        cycle,
        writer: w,
        ..Ledger::default()
    };
    let send = |l: &mut Ledger, method: &str, path: &str, body: &Value| -> Option<Resp> {
        match request(port, method, path, Some(token), Some(body)) {
            Ok(r) if r.ok() => Some(r),
            Ok(r) => {
                l.refused
                    .push(format!("{method} {path}: {} {}", r.status, r.body));
                None
            }
            Err(NoAnswer(why)) => {
                l.no_answer_at = Some((Instant::now(), format!("{method} {path}: {why}")));
                None
            }
        }
    };
    let home_body = inst_body(&inst(cycle, w, 0, 0));
    l.home_in_flight = true;
    let Some(r) = send(&mut l, "POST", "/api/v1/institutions", &home_body) else {
        return l;
    };
    l.home_in_flight = false;
    let home = r.json()["id"].as_i64().expect("home id");
    l.home = Some(home);
    let (mut inst_seq, mut teacher_seq) = (0u32, 0u32);
    for _ in 0..max_ops {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match rng.below(20) {
            0..=8 => {
                inst_seq += 1;
                l.inst_in_flight = Some(inst_seq);
                let body = inst_body(&inst(cycle, w, inst_seq, 0));
                let Some(r) = send(&mut l, "POST", "/api/v1/institutions", &body) else {
                    break;
                };
                l.inst_in_flight = None;
                l.insts
                    .insert(inst_seq, r.json()["id"].as_i64().expect("id"));
            }
            9..=15 => {
                teacher_seq += 1;
                l.teacher_in_flight = Some(teacher_seq);
                let path = format!("/api/v1/institutions/{home}/teachers");
                let body = teacher_body(cycle, w, teacher_seq);
                let Some(r) = send(&mut l, "POST", &path, &body) else {
                    break;
                };
                l.teacher_in_flight = None;
                l.teachers
                    .insert(teacher_seq, r.json()["id"].as_i64().expect("id"));
            }
            _ => {
                let v = l.version + 1;
                l.update_in_flight = Some(v);
                let path = format!("/api/v1/institutions/{home}");
                let Some(_) = send(&mut l, "PUT", &path, &inst_body(&inst(cycle, w, 0, v))) else {
                    break;
                };
                l.update_in_flight = None;
                l.version = v;
                l.updates += 1;
            }
        }
    }
    l
}

/// What a check found.
#[derive(Debug, Default, Clone, Copy)]
pub struct Checked {
    /// Acknowledged writes confirmed present with their content.
    pub writes: u64,
    /// Unanswered writes found present (whole).
    pub in_flight_present: u64,
    /// Unanswered writes found absent.
    pub in_flight_absent: u64,
    /// Encrypted ID numbers decrypted and compared.
    pub revealed: u64,
}

impl std::ops::AddAssign for Checked {
    fn add_assign(&mut self, o: Checked) {
        self.writes += o.writes;
        self.in_flight_present += o.in_flight_present;
        self.in_flight_absent += o.in_flight_absent;
        self.revealed += o.revealed;
    }
}

fn get(port: u16, token: &str, path: &str) -> Value {
    let r = request(port, "GET", path, Some(token), None)
        .unwrap_or_else(|e| panic!("GET {path}: no answer: {e:?}"));
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    r.json()
}

/// Every item of a paged list.
fn all_items(port: u16, token: &str, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    for page in 1.. {
        let v = get(port, token, &format!("{path}{sep}per_page=500&page={page}"));
        let items = v["items"].as_array().cloned().unwrap_or_default();
        let n = items.len();
        out.extend(items);
        if n < 500 {
            break;
        }
    }
    out
}

/// After a restart: the cycle's records, exactly. Every acknowledged write is there with its
/// content; everything else found is a write that was in flight, and whole. Then the ledgers
/// are settled: what was found stands, and a later check expects exactly that.
pub fn check_cycle(port: u16, token: &str, cycle: u32, ledgers: &mut [Ledger]) -> Checked {
    let mut c = Checked::default();
    let tag = cycle_tag(cycle);
    let q: String = tag
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let found = all_items(port, token, &format!("/api/v1/institutions?q={q}"));
    let mut seen: BTreeMap<(u32, u32), (i64, Inst)> = BTreeMap::new();
    for v in &found {
        let got = inst_from_json(v);
        let Some(key) = parse_inst_name(cycle, &got.name) else {
            continue; // another cycle's tag contains this one? (never: fixed width)
        };
        let id = v["id"].as_i64().expect("id");
        assert!(
            seen.insert(key, (id, got)).is_none(),
            "cycle {cycle}: institution {key:?} twice"
        );
    }
    for l in ledgers.iter_mut() {
        let w = l.writer;
        // The home institution, at the last acknowledged version or the one in flight.
        match (l.home, seen.remove(&(w, 0))) {
            (Some(id), Some((got_id, got))) => {
                assert_eq!(got_id, id, "cycle {cycle} writer {w}: home id");
                let acked = inst(cycle, w, 0, l.version);
                let flying = l.update_in_flight.map(|v| inst(cycle, w, 0, v));
                if got == acked {
                    if l.update_in_flight.take().is_some() {
                        c.in_flight_absent += 1;
                    }
                } else if Some(&got) == flying.as_ref() {
                    c.in_flight_present += 1;
                    l.version = l.update_in_flight.take().unwrap_or(l.version);
                } else {
                    panic!(
                        "cycle {cycle} writer {w}: home institution {id} is neither the \
                         acknowledged version {} ({acked:?}) nor the one in flight \
                         ({flying:?}): {got:?}",
                        l.version
                    );
                }
                c.writes += 1 + u64::from(l.updates);
            }
            (Some(id), None) => {
                panic!("cycle {cycle} writer {w}: acknowledged institution {id} (home) is missing")
            }
            (None, Some((got_id, got))) => {
                assert!(l.home_in_flight, "cycle {cycle} writer {w}: unknown home");
                assert_eq!(got, inst(cycle, w, 0, 0), "cycle {cycle} writer {w}: home");
                l.home = Some(got_id);
                l.home_in_flight = false;
                c.in_flight_present += 1;
            }
            (None, None) => {
                if std::mem::take(&mut l.home_in_flight) {
                    c.in_flight_absent += 1;
                }
            }
        }
        // Created institutions.
        for (&seq, &id) in &l.insts {
            let (got_id, got) = seen.remove(&(w, seq)).unwrap_or_else(|| {
                panic!(
                    "cycle {cycle} writer {w}: acknowledged institution {seq} (id {id}) is missing"
                )
            });
            assert_eq!(got_id, id, "cycle {cycle} writer {w} institution {seq}: id");
            assert_eq!(
                got,
                inst(cycle, w, seq, 0),
                "cycle {cycle} writer {w} institution {seq}"
            );
            c.writes += 1;
        }
        if let Some(seq) = l.inst_in_flight.take() {
            match seen.remove(&(w, seq)) {
                Some((id, got)) => {
                    assert_eq!(got, inst(cycle, w, seq, 0), "in-flight institution {seq}");
                    l.insts.insert(seq, id);
                    c.in_flight_present += 1;
                }
                None => c.in_flight_absent += 1,
            }
        }
        // Teachers at home.
        if let Some(home) = l.home {
            let mut teachers: BTreeMap<u32, (i64, Teacher)> = BTreeMap::new();
            for v in all_items(
                port,
                token,
                &format!("/api/v1/institutions/{home}/teachers"),
            ) {
                let got = teacher_from_json(&v);
                let seq: u32 = got
                    .name
                    .rsplit('N')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("teacher name {}", got.name));
                let id = v["id"].as_i64().expect("id");
                assert!(
                    teachers.insert(seq, (id, got)).is_none(),
                    "teacher {seq} twice"
                );
            }
            for (&seq, &id) in &l.teachers {
                let (got_id, got) = teachers.remove(&seq).unwrap_or_else(|| {
                    panic!(
                        "cycle {cycle} writer {w}: acknowledged teacher {seq} (id {id}) is missing"
                    )
                });
                assert_eq!(got_id, id, "teacher {seq}: id");
                assert_eq!(
                    got,
                    teacher(cycle, w, seq),
                    "cycle {cycle} writer {w} teacher {seq}"
                );
                c.writes += 1;
            }
            if let Some(seq) = l.teacher_in_flight.take() {
                match teachers.remove(&seq) {
                    Some((id, got)) => {
                        assert_eq!(got, teacher(cycle, w, seq), "in-flight teacher {seq}");
                        l.teachers.insert(seq, id);
                        c.in_flight_present += 1;
                    }
                    None => c.in_flight_absent += 1,
                }
            }
            assert!(
                teachers.is_empty(),
                "cycle {cycle} writer {w}: teachers nobody sent: {teachers:?}"
            );
            // The ID number is stored encrypted (S14): the newest teacher's decrypts whole.
            if let Some((&seq, &id)) = l.teachers.last_key_value() {
                let r = request(
                    port,
                    "POST",
                    &format!("/api/v1/teachers/{id}/reveal"),
                    Some(token),
                    Some(&json!({"reason": "崩溃测试：核对加密的身份证件号码完整"})),
                )
                .unwrap_or_else(|e| panic!("reveal teacher {id}: no answer: {e:?}"));
                assert_eq!(r.status, 200, "reveal teacher {id}: {}", r.body);
                assert_eq!(
                    r.json()["id_number"].as_str(),
                    Some(teacher_id_number(cycle, w, seq).as_str()),
                    "cycle {cycle} writer {w} teacher {seq}: decrypted ID number"
                );
                c.revealed += 1;
            }
        } else if l.teacher_in_flight.take().is_some() {
            c.in_flight_absent += 1;
        }
    }
    assert!(
        seen.is_empty(),
        "cycle {cycle}: institutions nobody sent (or sent by no writer): {seen:?}"
    );
    c
}

#[test]
fn generated_content_is_valid_and_names_parse_back() {
    let i = inst(199, 3, 42, 5);
    assert_eq!(parse_inst_name(199, &i.name), Some((3, 42)));
    assert_eq!(parse_inst_name(19, &i.name), None);
    assert!(i.name.chars().count() <= 100);
    assert_eq!(i.credit_code.len(), 18);
    assert_ne!(inst(1, 0, 0, 1), inst(1, 0, 0, 2));
    let id = teacher_id_number(199, 3, 999);
    assert_eq!(id.len(), 18);
    assert_eq!(teacher(1, 2, 3).name.rsplit('N').next(), Some("3"));
}
