//! Personal data at rest (R-PII-1, SECURITY.md S13, S14): the keys and the AEAD.
//!
//! * **Two keys, both outside the database.** [`RosterKey`] (HMAC-SHA256, lookups and
//!   uniqueness: `PEIXUN_ROSTER_KEY` or `<data_dir>/roster.key`) and the data key ring
//!   [`DataKeys`] (AES-256-GCM: `PEIXUN_DATA_KEY` or `<data_dir>/data.key`, 32 random bytes
//!   created with mode 0600 on first start). Neither is ever printed: `Debug` shows the key id
//!   only, which is a hash of the key and not secret.
//! * **Versioned ciphertext.** A column holds `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`;
//!   a file holds `PXE1 ‖ <key id> ‖ nonce ‖ ciphertext ‖ tag`. The key id (8 hex characters,
//!   from SHA-256 of the key) says which key of the ring opens it, so a rotation
//!   (`peixun keys rotate`) can run while rows under the old key (`data.key.old`) remain.
//! * **Bound to its place.** The associated data names the table, the column and the kind of
//!   row ([`Field`]), or the file id: a value copied into another column or file does not open.
//! * **Fails closed.** A wrong or missing key, or a changed byte, is a [`CryptoError`]: never a
//!   panic, never a garbled plaintext.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};

/// The prefix of a column value under format version 1.
pub const FIELD_PREFIX: &str = "v1:";
/// The first bytes of an encrypted file (format version 1).
pub const FILE_MAGIC: &[u8; 4] = b"PXE1";
const NONCE_LEN: usize = 12;
const KID_LEN: usize = 8;

/// The server's key for person lookups (S14): HMAC-SHA256 over the normalised ID number. Kept
/// outside the database: `PEIXUN_ROSTER_KEY` (64 hex characters) or `<data_dir>/roster.key`
/// (created on first start with 32 random bytes, mode 0600). Never printed.
#[derive(Clone)]
pub struct RosterKey([u8; 32]);

impl std::fmt::Debug for RosterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RosterKey(..)")
    }
}

impl RosterKey {
    pub fn new(bytes: [u8; 32]) -> RosterKey {
        RosterKey(bytes)
    }

    /// From `PEIXUN_ROSTER_KEY`, else `<data_dir>/roster.key` (created when missing).
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<RosterKey> {
        if let Ok(hex_key) = std::env::var("PEIXUN_ROSTER_KEY") {
            return Ok(RosterKey(parse_hex_key(&hex_key, "PEIXUN_ROSTER_KEY")?));
        }
        let path = data_dir.join("roster.key");
        if let Some(k) = read_key_file(&path)? {
            return Ok(RosterKey(k));
        }
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        if write_key_file_new(&path, &k)? {
            Ok(RosterKey(k))
        } else {
            Ok(RosterKey(
                read_key_file(&path)?.ok_or_else(|| invalid("roster.key vanished"))?,
            ))
        }
    }

    /// A value that tells this key from another without revealing it: the first 16 hex
    /// characters of an HMAC of a fixed text (stored in `key_checks`, shown in messages).
    pub fn check_value(&self) -> String {
        hex::encode(&hmac_sha256(&self.0, b"peixun/v1/key-check/roster")[..8])
    }

    /// HMAC-SHA256 (RFC 2104) of the trimmed, upper-cased ID number, hex.
    pub fn person_key(&self, id_number: &str) -> String {
        let msg = id_number.trim().to_uppercase();
        hex::encode(hmac_sha256(&self.0, msg.as_bytes()))
    }
}

/// HMAC-SHA256 (RFC 2104) with the RustCrypto `hmac` crate.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Which column a value belongs to: part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `roster_entries.id_number` — 学员身份证件号码.
    TraineeIdNumber,
    /// `teachers.id_number` — 教师身份证号码.
    TeacherIdNumber,
    /// `user_totp.secret` / `user_totp.pending_secret` — the TOTP shared secret (S4), base32.
    TotpSecret,
}

impl Field {
    fn aad(self) -> &'static [u8] {
        match self {
            Field::TraineeIdNumber => b"peixun/v1/roster_entries.id_number/trainee",
            Field::TeacherIdNumber => b"peixun/v1/teachers.id_number/teacher",
            Field::TotpSecret => b"peixun/v1/user_totp.secret/user",
        }
    }
}

/// Why a value did not open. Says nothing about the plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("not a peixun ciphertext")]
    Malformed,
    #[error("no key with id {0} (data.key / data.key.old)")]
    UnknownKey(String),
    #[error("ciphertext does not open under key {0} (wrong key or changed data)")]
    Rejected(String),
}

impl From<CryptoError> for crate::StoreError {
    fn from(e: CryptoError) -> Self {
        crate::StoreError::Db(sea_orm::DbErr::Custom(format!("数据解密失败: {e}")))
    }
}

/// One AES-256-GCM key and its id.
#[derive(Clone)]
pub struct DataKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, ..)", self.id)
    }
}

impl DataKey {
    pub fn new(bytes: [u8; 32]) -> DataKey {
        let digest = Sha256::new()
            .chain_update(b"peixun data key id\0")
            .chain_update(bytes)
            .finalize();
        DataKey {
            id: hex::encode(&digest[..KID_LEN / 2]),
            cipher: Aes256Gcm::new(&bytes.into()),
        }
    }

    /// A fresh random key.
    pub fn generate() -> ([u8; 32], DataKey) {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        (k, DataKey::new(k))
    }

    /// The key's id (8 hex characters; not secret).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn seal(&self, aad: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg, aad })
            .expect("AES-GCM encryption of an in-memory buffer under 64 GiB cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::Rejected(self.id.clone()))
    }
}

/// The data key ring: the current key (new values) and, during a rotation, the old one (reads).
#[derive(Debug, Clone)]
pub struct DataKeys {
    current: DataKey,
    old: Option<DataKey>,
}

/// Environment variable holding the data key (64 hex characters).
pub const DATA_KEY_ENV: &str = "PEIXUN_DATA_KEY";
/// Environment variable holding the previous data key during a rotation.
pub const DATA_KEY_OLD_ENV: &str = "PEIXUN_DATA_KEY_OLD";
/// The data key's file in the data folder.
pub const DATA_KEY_FILE: &str = "data.key";
/// The previous key's file while a rotation runs.
pub const DATA_KEY_OLD_FILE: &str = "data.key.old";

fn invalid(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

/// 64 hex characters → 32 bytes.
pub fn parse_hex_key(text: &str, what: &str) -> std::io::Result<[u8; 32]> {
    let b = hex::decode(text.trim())
        .map_err(|_| invalid(&format!("{what} must be 64 hex characters")))?;
    b.try_into()
        .map_err(|_| invalid(&format!("{what} must be 64 hex characters")))
}

/// Read a 32-byte key file; `None` when it does not exist.
pub fn read_key_file(path: &Path) -> std::io::Result<Option<[u8; 32]>> {
    match std::fs::read(path) {
        Ok(b) => {
            let k: [u8; 32] = b.try_into().map_err(|_| {
                invalid(&format!(
                    "{} must hold 32 bytes",
                    path.file_name().and_then(|n| n.to_str()).unwrap_or("key")
                ))
            })?;
            Ok(Some(k))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write a 32-byte key file (mode 0600) without ever replacing an existing one: the bytes go to
/// a private temporary file, are fsynced, then hard-linked to `path` (fails if `path` exists).
/// Returns `false` when `path` already existed (someone else created it first).
pub fn write_key_file_new(path: &Path, key: &[u8; 32]) -> std::io::Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut suffix = [0u8; 6];
    rand::rng().fill_bytes(&mut suffix);
    let tmp = dir.join(format!(".key-{}.tmp", hex::encode(suffix)));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        use std::io::Write;
        let mut f = opts.open(&tmp)?;
        f.write_all(key)?;
        f.sync_all()?;
        drop(f);
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => {
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

impl DataKeys {
    /// A ring of one key.
    pub fn new(current: [u8; 32]) -> DataKeys {
        DataKeys {
            current: DataKey::new(current),
            old: None,
        }
    }

    /// The ring with `old` readable too (a rotation in progress).
    pub fn with_old(mut self, old: [u8; 32]) -> DataKeys {
        let old = DataKey::new(old);
        if old.id != self.current.id {
            self.old = Some(old);
        }
        self
    }

    /// A random key held only in memory (tools and tests that keep nothing).
    pub fn ephemeral() -> DataKeys {
        DataKeys {
            current: DataKey::generate().1,
            old: None,
        }
    }

    /// `PEIXUN_DATA_KEY` (64 hex), else `<data_dir>/data.key` (created, 32 random bytes, mode
    /// 0600, when missing); plus the old key of an unfinished rotation (`PEIXUN_DATA_KEY_OLD` or
    /// `<data_dir>/data.key.old`) when there is one.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<DataKeys> {
        let current = match std::env::var(DATA_KEY_ENV) {
            Ok(text) => parse_hex_key(&text, DATA_KEY_ENV)?,
            Err(_) => {
                let path = data_dir.join(DATA_KEY_FILE);
                match read_key_file(&path)? {
                    Some(k) => k,
                    None => {
                        let (k, _) = DataKey::generate();
                        if write_key_file_new(&path, &k)? {
                            k
                        } else {
                            read_key_file(&path)?.ok_or_else(|| invalid("data.key vanished"))?
                        }
                    }
                }
            }
        };
        let mut keys = DataKeys::new(current);
        let old = match std::env::var(DATA_KEY_OLD_ENV) {
            Ok(text) => Some(parse_hex_key(&text, DATA_KEY_OLD_ENV)?),
            Err(_) => read_key_file(&data_dir.join(DATA_KEY_OLD_FILE))?,
        };
        if let Some(o) = old {
            keys = keys.with_old(o);
        }
        Ok(keys)
    }

    /// The id of the key new values are written under.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// The old key's id, during a rotation.
    pub fn old_id(&self) -> Option<&str> {
        self.old.as_ref().map(|k| k.id.as_str())
    }

    fn by_id(&self, id: &str) -> Result<&DataKey, CryptoError> {
        if self.current.id == id {
            return Ok(&self.current);
        }
        match &self.old {
            Some(k) if k.id == id => Ok(k),
            _ => Err(CryptoError::UnknownKey(id.to_string())),
        }
    }

    /// `v1:<key id>:<base64>` of `plaintext` for `field`.
    pub fn encrypt_field(&self, field: Field, plaintext: &str) -> String {
        let sealed = self.current.seal(field.aad(), plaintext.as_bytes());
        format!("{FIELD_PREFIX}{}:{}", self.current.id, B64.encode(sealed))
    }

    /// The plaintext of a value written by [`DataKeys::encrypt_field`] for the same `field`.
    pub fn decrypt_field(&self, field: Field, stored: &str) -> Result<String, CryptoError> {
        let kid = field_key_id(stored).ok_or(CryptoError::Malformed)?;
        let body = &stored[FIELD_PREFIX.len() + kid.len() + 1..];
        let sealed = B64.decode(body).map_err(|_| CryptoError::Malformed)?;
        let key = self.by_id(kid)?;
        let plain = key.open(field.aad(), &sealed)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Rejected(kid.to_string()))
    }

    /// The stored value under the current key: decrypt (any key of the ring) and encrypt again
    /// when it is under another key, encrypt when it is still plaintext (a legacy row), or
    /// `None` when it is already current.
    pub fn refresh_field(&self, field: Field, stored: &str) -> Result<Option<String>, CryptoError> {
        match field_key_id(stored) {
            Some(kid) if kid == self.current.id => Ok(None),
            Some(_) => Ok(Some(
                self.encrypt_field(field, &self.decrypt_field(field, stored)?),
            )),
            None if stored.starts_with(FIELD_PREFIX) => Err(CryptoError::Malformed),
            None => Ok(Some(self.encrypt_field(field, stored))),
        }
    }

    /// `PXE1 ‖ key id ‖ nonce ‖ ciphertext ‖ tag` of a file's bytes; `aad` names the file.
    pub fn encrypt_blob(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let sealed = self.current.seal(aad, plaintext);
        let mut out = Vec::with_capacity(FILE_MAGIC.len() + KID_LEN + sealed.len());
        out.extend_from_slice(FILE_MAGIC);
        out.extend_from_slice(self.current.id.as_bytes());
        out.extend_from_slice(&sealed);
        out
    }

    /// The bytes of a blob written by [`DataKeys::encrypt_blob`] with the same `aad`.
    pub fn decrypt_blob(&self, aad: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let kid = blob_key_id(data).ok_or(CryptoError::Malformed)?;
        let key = self.by_id(kid)?;
        key.open(aad, &data[FILE_MAGIC.len() + KID_LEN..])
    }
}

/// The key id of a column value, `None` for anything not in the `v1:` format (plaintext).
pub fn field_key_id(stored: &str) -> Option<&str> {
    let rest = stored.strip_prefix(FIELD_PREFIX)?;
    let (kid, _) = rest.split_once(':')?;
    (kid.len() == KID_LEN && kid.bytes().all(|b| b.is_ascii_hexdigit())).then_some(kid)
}

/// The key id of an encrypted file's bytes, `None` for a plaintext (legacy) file.
pub fn blob_key_id(data: &[u8]) -> Option<&str> {
    let rest = data.strip_prefix(FILE_MAGIC.as_slice())?;
    let kid = std::str::from_utf8(rest.get(..KID_LEN)?).ok()?;
    kid.bytes().all(|b| b.is_ascii_hexdigit()).then_some(kid)
}

/// Both keys a store needs: the lookup hash and the data key ring.
#[derive(Debug, Clone)]
pub struct Keys {
    pub lookup: RosterKey,
    pub data: Arc<DataKeys>,
}

impl Keys {
    pub fn new(lookup: RosterKey, data: DataKeys) -> Keys {
        Keys {
            lookup,
            data: Arc::new(data),
        }
    }

    /// Both keys from the environment or the data folder (created on first start).
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Keys> {
        Ok(Keys::new(
            RosterKey::load_or_create(data_dir)?,
            DataKeys::load_or_create(data_dir)?,
        ))
    }

    /// Random keys held in memory only.
    pub fn ephemeral() -> Keys {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        Keys::new(RosterKey::new(k), DataKeys::ephemeral())
    }

    /// Fixed keys for tests (never for data that matters): the lookup key is `[9; 32]`, the
    /// key `crate::testing` and the test support use for rosters.
    pub fn for_tests() -> Keys {
        Keys::new(RosterKey::new([9; 32]), DataKeys::new([0x5a; 32]))
    }
}

/// Where the key files of a data folder are (for messages and the rotation).
pub fn key_paths(data_dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        data_dir.join(DATA_KEY_FILE),
        data_dir.join(DATA_KEY_OLD_FILE),
        data_dir.join("data.key.new"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_sha256_rfc4231_case_6_long_key() {
        // Test case 6: a 131-byte key (longer than the block, hashed first).
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn person_key_normalises_and_is_keyed() {
        let a = RosterKey::new([1; 32]);
        let b = RosterKey::new([2; 32]);
        let id = "11010519491231002x";
        assert_eq!(a.person_key(id), a.person_key(" 11010519491231002X "));
        assert_ne!(a.person_key(id), b.person_key(id));
        assert_eq!(a.person_key(id).len(), 64);
        assert!(!format!("{a:?}").contains('1'));
    }

    #[test]
    fn s14_field_round_trip_and_no_plaintext() {
        let k = DataKeys::new([1; 32]);
        let id = "440105199001011234";
        let c = k.encrypt_field(Field::TraineeIdNumber, id);
        assert!(c.starts_with(&format!("v1:{}:", k.current_id())));
        assert!(!c.contains(id) && !c.contains("19900101"));
        assert_ne!(
            c,
            k.encrypt_field(Field::TraineeIdNumber, id),
            "fresh nonce"
        );
        assert_eq!(k.decrypt_field(Field::TraineeIdNumber, &c).unwrap(), id);
    }

    #[test]
    fn s14_bound_to_its_column() {
        let k = DataKeys::new([1; 32]);
        let c = k.encrypt_field(Field::TraineeIdNumber, "440105199001011234");
        assert!(matches!(
            k.decrypt_field(Field::TeacherIdNumber, &c),
            Err(CryptoError::Rejected(_))
        ));
        let b = k.encrypt_blob(b"file-a", b"%PDF-1.7 secret");
        assert!(k.decrypt_blob(b"file-b", &b).is_err());
        assert_eq!(k.decrypt_blob(b"file-a", &b).unwrap(), b"%PDF-1.7 secret");
    }

    #[test]
    fn s14_wrong_key_fails_cleanly() {
        let a = DataKeys::new([1; 32]);
        let b = DataKeys::new([2; 32]);
        let c = a.encrypt_field(Field::TeacherIdNumber, "440105199001011234");
        assert!(matches!(
            b.decrypt_field(Field::TeacherIdNumber, &c),
            Err(CryptoError::UnknownKey(_))
        ));
        // Same id claimed, other key: the tag check refuses it.
        let forged = c.replace(a.current_id(), b.current_id());
        assert!(matches!(
            b.decrypt_field(Field::TeacherIdNumber, &forged),
            Err(CryptoError::Rejected(_))
        ));
        let mut tampered = c.clone().into_bytes();
        let n = tampered.len();
        tampered[n - 3] = if tampered[n - 3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(a.decrypt_field(Field::TeacherIdNumber, &tampered).is_err());
        for junk in ["", "v1:", "v1:zz:abc", "v1:0123abcd:", "v1:0123abcd:!!!"] {
            assert!(a.decrypt_field(Field::TeacherIdNumber, junk).is_err());
        }
        assert!(a.decrypt_blob(b"x", b"PXE1").is_err());
        assert!(a.decrypt_blob(b"x", b"%PDF").is_err());
    }

    #[test]
    fn s14_rotation_reads_old_and_writes_new() {
        let old = DataKeys::new([1; 32]);
        let c_old = old.encrypt_field(Field::TraineeIdNumber, "A1234567");
        let ring = DataKeys::new([2; 32]).with_old([1; 32]);
        assert_eq!(ring.old_id(), Some(old.current_id()));
        let fresh = ring
            .refresh_field(Field::TraineeIdNumber, &c_old)
            .unwrap()
            .unwrap();
        assert_eq!(field_key_id(&fresh), Some(ring.current_id()));
        assert_eq!(
            ring.decrypt_field(Field::TraineeIdNumber, &fresh).unwrap(),
            "A1234567"
        );
        assert_eq!(
            ring.refresh_field(Field::TraineeIdNumber, &fresh).unwrap(),
            None
        );
        // A legacy plaintext value is encrypted.
        let from_plain = ring
            .refresh_field(Field::TraineeIdNumber, "A1234567")
            .unwrap()
            .unwrap();
        assert_eq!(field_key_id(&from_plain), Some(ring.current_id()));
    }

    #[test]
    fn s14_keys_never_printed() {
        let k = Keys::new(RosterKey::new([0xab; 32]), DataKeys::new([0xcd; 32]));
        let text = format!("{k:?}");
        assert!(!text.contains("abab") && !text.contains("cdcd"), "{text}");
    }

    #[test]
    fn s14_key_file_created_once_0600() {
        let dir = std::env::temp_dir().join(format!("peixun-keytest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("data.key");
        assert!(write_key_file_new(&path, &[3; 32]).unwrap());
        assert!(!write_key_file_new(&path, &[4; 32]).unwrap());
        assert_eq!(read_key_file(&path).unwrap(), Some([3; 32]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
