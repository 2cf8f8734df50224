//! The IAM credential report: one CSV row per user with console, MFA, access-key and
//! certificate facts, base64-encoded in GetCredentialReport's `Content`.
//!
//! Columns are found by header name. Sentinels: `N/A` (not applicable), `no_information`
//! (never used since tracking began), `not_supported` (the root account) are read as
//! unknown; timestamps carry `+00:00` offsets. The `<root_account>` row is kept apart.
//! Source: IAM User Guide, "Getting credential reports for your AWS account".
//!
//! The report is read as a stream: the base64 text is decoded and split into CSV records
//! as it is read, one record buffer reused, and each row kept packed (96 bytes and its ARN:
//! times as plain integers, the flags two bits each, the last-used services and regions as
//! indices into one list of names) in one vector sorted by ARN, so memory grows with the
//! users by about 150 bytes each, not with copies of the text.

use std::io::Read;
use std::rc::Rc;

use crate::model::timestamp_ms;

/// One of a user's two access key slots (`access_key_1_*`, `access_key_2_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySlot {
    /// `access_key_N_active`.
    pub active: Option<bool>,
    /// `access_key_N_last_rotated`: the key's `CreateDate`, whole seconds, in ms.
    pub rotated_ms: Option<i64>,
    /// `access_key_N_last_used_date`, ms; `None` when never used (`N/A`).
    pub last_used_ms: Option<i64>,
    /// `access_key_N_last_used_service`, unless `N/A`.
    pub last_used_service: Option<Rc<str>>,
    /// `access_key_N_last_used_region`, unless `N/A`.
    pub last_used_region: Option<Rc<str>>,
}

impl KeySlot {
    /// Whether the slot holds a key (active or not).
    pub fn holds_a_key(&self) -> bool {
        self.active == Some(true) || self.rotated_ms.is_some()
    }
}

/// One of a user's two signing certificate slots (`cert_1_*`, `cert_2_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CertSlot {
    /// `cert_N_active`.
    pub active: Option<bool>,
    /// `cert_N_last_rotated`: the certificate's `UploadDate`, whole seconds, in ms.
    pub rotated_ms: Option<i64>,
}

impl CertSlot {
    /// Whether the slot holds a certificate (active or not).
    pub fn holds_a_certificate(&self) -> bool {
        self.active == Some(true) || self.rotated_ms.is_some()
    }
}

/// What the report says about one user (or the root user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRow {
    /// `user_creation_time`, ms.
    pub created_ms: Option<i64>,
    /// `password_enabled`: the user has a console password.
    pub password_enabled: Option<bool>,
    /// `password_last_used`, ms; `None` when never used or unknown.
    pub password_last_used_ms: Option<i64>,
    /// `password_last_changed`, ms.
    pub password_last_changed_ms: Option<i64>,
    /// `mfa_active`.
    pub mfa_active: Option<bool>,
    /// `access_key_1_*` and `access_key_2_*`.
    pub keys: [KeySlot; 2],
    /// `cert_1_*` and `cert_2_*`.
    pub certificates: [CertSlot; 2],
}

impl ReportRow {
    /// The user holds at least one access key (active or not).
    pub fn has_access_keys(&self) -> bool {
        self.keys.iter().any(KeySlot::holds_a_key)
    }

    /// Signing certificates the user holds (0 to 2).
    pub fn signing_certificates(&self) -> u32 {
        self.certificates
            .iter()
            .filter(|slot| slot.holds_a_certificate())
            .count() as u32
    }

    /// The slot of the key created at `created_ms` (ListAccessKeys `CreateDate`, compared
    /// in whole seconds as the report writes it); `index` is the key's position among the
    /// user's keys in creation order, which decides between slots of the same second.
    pub fn key_slot(&self, created_ms: Option<i64>, index: usize) -> Option<&KeySlot> {
        let second = whole_second(created_ms?);
        let matching: Vec<&KeySlot> = self
            .keys
            .iter()
            .filter(|slot| slot.rotated_ms == Some(second))
            .collect();
        match matching.as_slice() {
            [one] => Some(one),
            [_, _] => self.keys.get(index),
            _ => None,
        }
    }
}

/// `ms` rounded down to its whole second, as the report writes times.
pub fn whole_second(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// A parsed report.
#[derive(Debug, Clone, Default)]
pub struct CredentialReport {
    /// `GeneratedTime`, ms; users created after it are not in the report.
    pub generated_ms: Option<i64>,
    /// The users' rows, sorted by ARN (of a repeated ARN, the first row).
    rows: Vec<(Box<str>, Packed)>,
    /// The last-used services and regions the rows name.
    names: Interned,
    /// The `<root_account>` row.
    pub root: Option<ReportRow>,
}

impl CredentialReport {
    /// The row of the user with `arn`, if the report has it.
    pub fn row(&self, arn: &str) -> Option<ReportRow> {
        let at = self
            .rows
            .binary_search_by(|(held, _)| (**held).cmp(arn))
            .ok()?;
        Some(self.rows[at].1.unpack(&self.names))
    }

    /// Users' rows (the root account's apart).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Every user's row with its ARN, in ARN order.
    #[cfg(test)]
    pub fn rows(&self) -> impl Iterator<Item = (&str, ReportRow)> + '_ {
        self.rows
            .iter()
            .map(|(arn, packed)| (&**arn, packed.unpack(&self.names)))
    }
}

/// A time kept in a [`Packed`] row: ms, or this for none (no timestamp is that early).
const NO_TIME: i64 = i64::MIN;

/// A [`ReportRow`] as kept: its nine times ([`Packed::TIMES`]), its six flags two bits each
/// ([`Packed::FLAGS`]; 0 unknown, 2 false, 3 true) and each key's last-used service and
/// region as a name index plus one ([`Packed::NAMES`]; 0: none).
#[derive(Debug, Clone, Copy)]
struct Packed {
    times: [i64; 9],
    flags: u16,
    names: [u16; 4],
}

impl Packed {
    /// The columns of `times`, `flags` and `names`, in order.
    const TIMES: [&'static str; 9] = [
        "user_creation_time",
        "password_last_used",
        "password_last_changed",
        "access_key_1_last_rotated",
        "access_key_1_last_used_date",
        "access_key_2_last_rotated",
        "access_key_2_last_used_date",
        "cert_1_last_rotated",
        "cert_2_last_rotated",
    ];
    const FLAGS: [&'static str; 6] = [
        "password_enabled",
        "mfa_active",
        "access_key_1_active",
        "access_key_2_active",
        "cert_1_active",
        "cert_2_active",
    ];
    const NAMES: [&'static str; 4] = [
        "access_key_1_last_used_service",
        "access_key_1_last_used_region",
        "access_key_2_last_used_service",
        "access_key_2_last_used_region",
    ];

    fn unpack(&self, names: &Interned) -> ReportRow {
        let time = |at: usize| Some(self.times[at]).filter(|&t| t != NO_TIME);
        let flag = |at: usize| {
            let bits = self.flags >> (2 * at) & 3;
            (bits & 2 != 0).then_some(bits & 1 != 0)
        };
        let name = |at: usize| names.get(self.names[at]);
        let key = |n: usize| KeySlot {
            active: flag(2 + n),
            rotated_ms: time(3 + 2 * n),
            last_used_ms: time(4 + 2 * n),
            last_used_service: name(2 * n),
            last_used_region: name(2 * n + 1),
        };
        let certificate = |n: usize| CertSlot {
            active: flag(4 + n),
            rotated_ms: time(7 + n),
        };
        ReportRow {
            created_ms: time(0),
            password_enabled: flag(0),
            password_last_used_ms: time(1),
            password_last_changed_ms: time(2),
            mfa_active: flag(1),
            keys: [key(0), key(1)],
            certificates: [certificate(0), certificate(1)],
        }
    }
}

/// Decodes and parses a report's base64 `Content` as a stream; `generated` is its
/// `GeneratedTime`; `expected_rows` (the account's user count, 0 when unknown) sizes the
/// rows once instead of growing them (no more than the content could hold is reserved).
///
/// Errors: not base64, not CSV, or a header without the `user`/`arn` columns.
pub fn parse(
    content: &str,
    generated: Option<&str>,
    expected_rows: usize,
) -> Result<CredentialReport, String> {
    let decoded = base64::read::DecoderReader::new(
        SkipWhitespace(content.as_bytes()),
        &base64::engine::general_purpose::STANDARD,
    );
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(decoded);
    let headers = reader.byte_headers().map_err(csv_error)?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name.as_bytes());
    let (user, arn) = match (column("user"), column("arn")) {
        (Some(user), Some(arn)) => (user, arn),
        _ => return Err("report header lacks the user and arn columns".into()),
    };
    let times = Packed::TIMES.map(column);
    let flags = Packed::FLAGS.map(column);
    let named = Packed::NAMES.map(column);
    let mut report = CredentialReport {
        generated_ms: generated.and_then(timestamp_ms),
        ..CredentialReport::default()
    };
    let mut names = Interned::default();
    // A row is more than 64 bytes of base64 (its ARN, its columns' commas and newline).
    let mut rows: Vec<(Box<str>, Packed)> =
        Vec::with_capacity(expected_rows.min(content.len() / 64));
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        let value = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .and_then(|v| std::str::from_utf8(v).ok())
                .filter(|v| !is_sentinel(v))
        };
        let packed = Packed {
            times: times.map(|c| value(c).and_then(timestamp_ms).unwrap_or(NO_TIME)),
            flags: flags.iter().enumerate().fold(0, |bits, (at, &c)| {
                let flag = value(c).and_then(|v| v.parse::<bool>().ok());
                bits | flag.map_or(0, |f| 2 | u16::from(f)) << (2 * at)
            }),
            names: named.map(|c| value(c).map_or(0, |v| names.index(v))),
        };
        if record.get(user) == Some(b"<root_account>".as_slice()) {
            report.root = Some(packed.unpack(&names));
            continue;
        }
        let Some(arn) = record.get(arn).and_then(|v| std::str::from_utf8(v).ok()) else {
            continue;
        };
        rows.push((arn.into(), packed));
    }
    // Stable: of a repeated ARN, the first row stays first, and is the one kept.
    rows.sort_by(|(a, _), (b, _)| a.cmp(b));
    rows.dedup_by(|later, first| later.0 == first.0);
    rows.shrink_to_fit();
    report.rows = rows;
    report.names = names;
    Ok(report)
}

/// A CSV error, or the base64 error under it (the decoder reports through `io::Error`).
fn csv_error(error: csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Io(io) => format!("report content is not base64: {io}"),
        _ => format!("report is not CSV: {error}"),
    }
}

/// The base64 text with the line breaks and spaces IAM may wrap it with left out.
struct SkipWhitespace<'a>(&'a [u8]);

impl Read for SkipWhitespace<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < buf.len() {
            let Some((&byte, rest)) = self.0.split_first() else {
                break;
            };
            self.0 = rest;
            if !byte.is_ascii_whitespace() {
                buf[written] = byte;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// One shared copy of each distinct last-used service and region: a few dozen in practice,
/// so a list searched in order is enough; past [`Interned::MAX`] names, later ones are
/// left unknown (a report naming more is not IAM's).
#[derive(Debug, Clone, Default)]
struct Interned(Vec<Rc<str>>);

impl Interned {
    const MAX: usize = 1024;

    /// `value`'s index plus one; 0 when the list is full.
    fn index(&mut self, value: &str) -> u16 {
        let at = match self.0.iter().position(|shared| **shared == *value) {
            Some(at) => at,
            None if self.0.len() < Self::MAX => {
                self.0.push(value.into());
                self.0.len() - 1
            }
            None => return 0,
        };
        at as u16 + 1
    }

    /// The name at `index` (as [`Interned::index`] gave it).
    fn get(&self, index: u16) -> Option<Rc<str>> {
        self.0.get(usize::from(index).checked_sub(1)?).cloned()
    }
}

fn is_sentinel(value: &str) -> bool {
    matches!(value, "N/A" | "no_information" | "not_supported" | "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fixture;

    fn encode(csv: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(csv)
    }

    #[test]
    fn the_aws_shaped_report_with_root_row_and_sentinels() {
        let report = parse(
            &encode(&fixture("synthetic/credential_report.csv")),
            Some("2024-11-05T00:00:00Z"),
            3,
        )
        .unwrap();
        assert_eq!(report.generated_ms, Some(1_730_764_800_000));
        assert_eq!(report.len(), 3, "the root account row is kept apart");
        let root = report.root.as_ref().unwrap();
        assert_eq!(
            (root.created_ms, root.mfa_active, root.password_enabled),
            (Some(1_525_168_800_000), Some(true), None)
        );
        assert_eq!(root.password_last_used_ms, Some(1_730_275_964_000));
        assert!(!root.has_access_keys());
        assert_eq!(
            report.row("arn:aws:iam::111122223333:user/alice"),
            Some(ReportRow {
                created_ms: Some(1_552_555_613_000),
                password_enabled: Some(true),
                password_last_used_ms: Some(1_730_570_711_000),
                password_last_changed_ms: Some(1_717_225_200_000),
                mfa_active: Some(true),
                keys: [
                    KeySlot {
                        active: Some(true),
                        rotated_ms: Some(1_704_448_800_000),
                        last_used_ms: Some(1_730_624_400_000),
                        last_used_service: Some("iam".into()),
                        last_used_region: Some("us-east-1".into()),
                    },
                    KeySlot {
                        active: Some(false),
                        rotated_ms: Some(1_672_912_800_000),
                        last_used_ms: None,
                        last_used_service: None,
                        last_used_region: None,
                    },
                ],
                certificates: [CertSlot {
                    active: Some(false),
                    rotated_ms: None,
                }; 2],
            })
        );
        let bob = report
            .row("arn:aws:iam::111122223333:user/engineering/bob")
            .unwrap();
        assert_eq!(
            (
                bob.password_enabled,
                bob.password_last_used_ms,
                bob.mfa_active
            ),
            (Some(true), None, Some(false))
        );
        assert!(!bob.has_access_keys());
        let svc = report
            .row("arn:aws:iam::111122223333:user/r&d/svc+deploy=bot@corp.example")
            .unwrap();
        assert_eq!(
            (svc.password_enabled, svc.has_access_keys()),
            (Some(false), true)
        );
    }

    #[test]
    fn the_moto_report_decodes_from_its_xml_content() {
        let xml = fixture("moto/GetCredentialReport.xml");
        let start = xml.find("<Content>").unwrap() + "<Content>".len();
        let end = xml.find("</Content>").unwrap();
        let report = parse(&xml[start..end], None, 0).unwrap();
        let alice = report.row("arn:aws:iam::123456789012:user/alice").unwrap();
        assert_eq!(alice.password_enabled, Some(true));
        assert!(alice.has_access_keys());
        assert_eq!(report.generated_ms, None);
    }

    #[test]
    fn an_inactive_key_still_counts_as_held_and_certificates_are_counted() {
        let csv = "user,arn,access_key_1_active,access_key_1_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
                   u,arn:aws:iam::1:user/u,false,2024-01-01T00:00:00+00:00,true,2024-01-01T00:00:00+00:00,false,2024-02-01T00:00:00+00:00\n";
        let report = parse(&encode(csv), None, 0).unwrap();
        let row = report.row("arn:aws:iam::1:user/u").unwrap();
        assert!(row.has_access_keys());
        assert_eq!(row.signing_certificates(), 2);
        assert_eq!(row.mfa_active, None, "a missing column is unknown");
    }

    #[test]
    fn key_slots_match_by_creation_second_then_by_order() {
        let csv = "user,arn,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
                   u,arn:aws:iam::1:user/u,true,2024-01-01T00:00:00+00:00,2024-03-01T00:00:00+00:00,true,2024-01-01T00:00:00+00:00,N/A\n\
                   v,arn:aws:iam::1:user/v,true,2024-01-01T00:00:00+00:00,N/A,true,2024-02-01T00:00:00+00:00,2024-02-02T00:00:00+00:00\n";
        let report = parse(&encode(csv), None, 0).unwrap();
        let u = report.row("arn:aws:iam::1:user/u").unwrap();
        let same_second = Some(1_704_067_200_123);
        assert_eq!(
            u.key_slot(same_second, 0).unwrap().last_used_ms,
            Some(1_709_251_200_000)
        );
        assert_eq!(u.key_slot(same_second, 1).unwrap().last_used_ms, None);
        let v = report.row("arn:aws:iam::1:user/v").unwrap();
        assert_eq!(
            v.key_slot(Some(1_706_745_600_999), 0).unwrap().last_used_ms,
            Some(1_706_832_000_000)
        );
        assert_eq!(
            v.key_slot(Some(1_704_067_200_000), 1).unwrap().last_used_ms,
            None
        );
        assert_eq!(
            v.key_slot(Some(1_800_000_000_000), 0),
            None,
            "no slot for another key"
        );
        assert_eq!(v.key_slot(None, 0), None);
    }

    /// The report read in memory, as a reference for the streaming reader: the whole
    /// content decoded at once, then every record as strings, the rows by ARN in a map.
    fn parse_in_memory(
        content: &str,
    ) -> (
        std::collections::HashMap<String, ReportRow>,
        Option<ReportRow>,
    ) {
        use base64::Engine;
        let compact: String = content.split_ascii_whitespace().collect();
        let csv = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(csv.as_slice());
        let headers = reader.headers().unwrap().clone();
        let (mut rows, mut root) = (std::collections::HashMap::new(), None);
        for record in reader.records() {
            let record = record.unwrap();
            let get = |name: &str| {
                let at = headers.iter().position(|h| h == name)?;
                record.get(at).filter(|v| !is_sentinel(v))
            };
            let flag = |name: &str| get(name).and_then(|v| v.parse::<bool>().ok());
            let time = |name: &str| get(name).and_then(timestamp_ms);
            let key = |n: u8| KeySlot {
                active: flag(&format!("access_key_{n}_active")),
                rotated_ms: time(&format!("access_key_{n}_last_rotated")),
                last_used_ms: time(&format!("access_key_{n}_last_used_date")),
                last_used_service: get(&format!("access_key_{n}_last_used_service")).map(Rc::from),
                last_used_region: get(&format!("access_key_{n}_last_used_region")).map(Rc::from),
            };
            let cert = |n: u8| CertSlot {
                active: flag(&format!("cert_{n}_active")),
                rotated_ms: time(&format!("cert_{n}_last_rotated")),
            };
            let row = ReportRow {
                created_ms: time("user_creation_time"),
                password_enabled: flag("password_enabled"),
                password_last_used_ms: time("password_last_used"),
                password_last_changed_ms: time("password_last_changed"),
                mfa_active: flag("mfa_active"),
                keys: [key(1), key(2)],
                certificates: [cert(1), cert(2)],
            };
            if get("user") == Some("<root_account>") {
                root = Some(row);
            } else {
                rows.insert(get("arn").unwrap().to_owned(), row);
            }
        }
        (rows, root)
    }

    #[test]
    fn the_stream_reads_the_same_rows_as_the_whole_text() {
        let moto = fixture("moto/GetCredentialReport.xml");
        let start = moto.find("<Content>").unwrap() + "<Content>".len();
        let moto = moto[start..moto.find("</Content>").unwrap()].to_owned();
        // IAM may wrap the base64 text; the stream skips the line breaks.
        let synthetic = encode(&fixture("synthetic/credential_report.csv"));
        let wrapped: Vec<String> = synthetic
            .as_bytes()
            .chunks(76)
            .map(|line| String::from_utf8(line.to_vec()).unwrap())
            .collect();
        let generated = encode(&test_support::fake_iam::credential_report(10_000));
        for (name, content) in [
            ("moto", moto),
            ("synthetic", synthetic.clone()),
            ("wrapped", wrapped.join("\r\n")),
            ("10,000 users", generated),
        ] {
            let streamed = parse(&content, Some("2026-01-01T00:00:00Z"), 0).unwrap();
            let (rows, root) = parse_in_memory(&content);
            let kept: std::collections::HashMap<String, ReportRow> = streamed
                .rows()
                .map(|(arn, row)| (arn.to_owned(), row))
                .collect();
            assert_eq!((kept, streamed.root.clone()), (rows, root), "{name}");
            assert_eq!(streamed.generated_ms, Some(1_767_225_600_000), "{name}");
            assert!(streamed.len() > 0, "{name}");
        }
        // Sized by the account's user count (the root account's row is kept apart).
        let big = parse(
            &encode(&test_support::fake_iam::credential_report(10_000)),
            None,
            10_000,
        )
        .unwrap();
        assert_eq!(big.len(), 10_000);
        // User 10: one key, one certificate (tests/support/src/fake_iam.rs).
        let user_10 = big
            .row("arn:aws:iam::210987654321:user/generated/user-00010")
            .unwrap();
        assert_eq!(user_10.signing_certificates(), 1);
        assert_eq!(user_10.keys[0].rotated_ms, Some(1_640_995_200_000));
        assert_eq!(user_10.keys[1].active, Some(false));
    }

    #[test]
    fn a_repeated_arn_keeps_its_first_row_and_names_past_the_cap_are_unknown() {
        let mut csv = String::from(
            "user,arn,mfa_active,access_key_1_last_used_service,access_key_1_last_used_region\n\
             u,arn:aws:iam::1:user/u,true,iam,us-east-1\n\
             u,arn:aws:iam::1:user/u,false,s3,eu-west-1\n",
        );
        // With the four above, 510 users with a service and a region of their own fill the
        // list's 1,024 names; the next user's are left unknown, its other facts kept.
        for i in 0..510 {
            csv.push_str(&format!(
                "v{i},arn:aws:iam::1:user/v{i},false,svc{i},reg{i}\n"
            ));
        }
        csv.push_str("w,arn:aws:iam::1:user/w,true,late,later\n");
        let report = parse(&encode(&csv), None, 0).unwrap();
        assert_eq!(report.len(), 512);
        let u = report.row("arn:aws:iam::1:user/u").unwrap();
        assert_eq!(u.mfa_active, Some(true));
        assert_eq!(u.keys[0].last_used_service.as_deref(), Some("iam"));
        assert_eq!(u.keys[0].last_used_region.as_deref(), Some("us-east-1"));
        let v = report.row("arn:aws:iam::1:user/v509").unwrap();
        assert_eq!(v.keys[0].last_used_region.as_deref(), Some("reg509"));
        let w = report.row("arn:aws:iam::1:user/w").unwrap();
        assert_eq!(
            (w.mfa_active, w.keys[0].last_used_service.clone()),
            (Some(true), None)
        );
        assert_eq!(report.row("arn:aws:iam::1:user/x"), None);
    }

    #[test]
    fn broken_reports_are_errors() {
        assert!(parse("%%%", None, 0)
            .unwrap_err()
            .starts_with("report content is not base64"));
        assert_eq!(
            parse(&encode("a,b\n1,2\n"), None, 0).unwrap_err(),
            "report header lacks the user and arn columns"
        );
    }
}
