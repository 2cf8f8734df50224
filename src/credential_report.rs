//! The IAM credential report: one CSV row per user with console, MFA, access-key and
//! certificate facts, base64-encoded in GetCredentialReport's `Content`.
//!
//! Columns are found by header name. Sentinels: `N/A` (not applicable), `no_information`
//! (never used since tracking began), `not_supported` (the root account) are read as
//! unknown; timestamps carry `+00:00` offsets. The `<root_account>` row is skipped.
//! Source: IAM User Guide, "Getting credential reports for your AWS account".

use std::collections::HashMap;

use base64::Engine;

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
    pub last_used_service: Option<String>,
    /// `access_key_N_last_used_region`, unless `N/A`.
    pub last_used_region: Option<String>,
}

impl KeySlot {
    /// Whether the slot holds a key (active or not).
    pub fn holds_a_key(&self) -> bool {
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
    /// `cert_1/2`: signing certificates the user holds.
    pub signing_certificates: u32,
}

impl ReportRow {
    /// The user holds at least one access key (active or not).
    pub fn has_access_keys(&self) -> bool {
        self.keys.iter().any(KeySlot::holds_a_key)
    }

    /// The slot of the key created at `created_ms` (ListAccessKeys `CreateDate`, compared
    /// in whole seconds as the report writes it); `index` is the key's position among the
    /// user's keys in creation order, which decides between slots of the same second.
    pub fn key_slot(&self, created_ms: Option<i64>, index: usize) -> Option<&KeySlot> {
        let second = created_ms?.div_euclid(1000) * 1000;
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

/// A parsed report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialReport {
    /// `GeneratedTime`, ms; users created after it are not in the report.
    pub generated_ms: Option<i64>,
    /// Rows by user ARN.
    pub rows: HashMap<String, ReportRow>,
    /// The `<root_account>` row.
    pub root: Option<ReportRow>,
}

impl CredentialReport {
    /// The row of the user with `arn`, if the report has it.
    pub fn row(&self, arn: &str) -> Option<&ReportRow> {
        self.rows.get(arn)
    }
}

/// Decodes and parses a report's base64 `Content`; `generated` is its `GeneratedTime`.
///
/// Errors: not base64, not CSV, or a header without the `user`/`arn` columns.
pub fn parse(content: &str, generated: Option<&str>) -> Result<CredentialReport, String> {
    let compact: String = content
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let csv = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("report content is not base64: {e}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv.as_slice());
    let headers = reader
        .headers()
        .map_err(|e| format!("report is not CSV: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (user, arn) = match (column("user"), column("arn")) {
        (Some(user), Some(arn)) => (user, arn),
        _ => return Err("report header lacks the user and arn columns".into()),
    };
    let columns = [
        "user_creation_time",
        "password_enabled",
        "password_last_used",
        "password_last_changed",
        "mfa_active",
        "cert_1_active",
        "cert_1_last_rotated",
        "cert_2_active",
        "cert_2_last_rotated",
    ]
    .map(column);
    let key_columns = [1, 2].map(|n| {
        [
            "active",
            "last_rotated",
            "last_used_date",
            "last_used_service",
            "last_used_region",
        ]
        .map(|suffix| column(&format!("access_key_{n}_{suffix}")))
    });
    let mut report = CredentialReport {
        generated_ms: generated.and_then(timestamp_ms),
        ..CredentialReport::default()
    };
    for record in reader.records() {
        let record = record.map_err(|e| format!("report is not CSV: {e}"))?;
        let value = |c: Option<usize>| c.and_then(|c| record.get(c)).filter(|v| !is_sentinel(v));
        let field = |i: usize| value(columns[i]);
        let flag = |c: Option<usize>| value(c).and_then(|v| v.parse::<bool>().ok());
        let time = |c: Option<usize>| value(c).and_then(timestamp_ms);
        let held = |active: usize, rotated: usize| {
            flag(columns[active]) == Some(true) || time(columns[rotated]).is_some()
        };
        let row = ReportRow {
            created_ms: field(0).and_then(timestamp_ms),
            password_enabled: flag(columns[1]),
            password_last_used_ms: field(2).and_then(timestamp_ms),
            password_last_changed_ms: field(3).and_then(timestamp_ms),
            mfa_active: flag(columns[4]),
            keys: key_columns.map(|[active, rotated, used, service, region]| KeySlot {
                active: flag(active),
                rotated_ms: time(rotated),
                last_used_ms: time(used),
                last_used_service: value(service).map(str::to_owned),
                last_used_region: value(region).map(str::to_owned),
            }),
            signing_certificates: u32::from(held(5, 6)) + u32::from(held(7, 8)),
        };
        if record.get(user) == Some("<root_account>") {
            report.root = Some(row);
            continue;
        }
        let Some(arn) = record.get(arn) else { continue };
        report.rows.insert(arn.to_owned(), row);
    }
    Ok(report)
}

fn is_sentinel(value: &str) -> bool {
    matches!(value, "N/A" | "no_information" | "not_supported" | "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fixture;

    fn encode(csv: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(csv)
    }

    #[test]
    fn the_aws_shaped_report_with_root_row_and_sentinels() {
        let report = parse(
            &encode(&fixture("synthetic/credential_report.csv")),
            Some("2024-11-05T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(report.generated_ms, Some(1_730_764_800_000));
        assert_eq!(report.rows.len(), 3, "the root account row is kept apart");
        let root = report.root.as_ref().unwrap();
        assert_eq!(
            (root.created_ms, root.mfa_active, root.password_enabled),
            (Some(1_525_168_800_000), Some(true), None)
        );
        assert_eq!(root.password_last_used_ms, Some(1_730_275_964_000));
        assert!(!root.has_access_keys());
        assert_eq!(
            report.row("arn:aws:iam::111122223333:user/alice"),
            Some(&ReportRow {
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
                signing_certificates: 0,
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
        let report = parse(&xml[start..end], None).unwrap();
        let alice = report.row("arn:aws:iam::123456789012:user/alice").unwrap();
        assert_eq!(alice.password_enabled, Some(true));
        assert!(alice.has_access_keys());
        assert_eq!(report.generated_ms, None);
    }

    #[test]
    fn an_inactive_key_still_counts_as_held_and_certificates_are_counted() {
        let csv = "user,arn,access_key_1_active,access_key_1_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
                   u,arn:aws:iam::1:user/u,false,2024-01-01T00:00:00+00:00,true,2024-01-01T00:00:00+00:00,false,2024-02-01T00:00:00+00:00\n";
        let report = parse(&encode(csv), None).unwrap();
        let row = report.row("arn:aws:iam::1:user/u").unwrap();
        assert!(row.has_access_keys());
        assert_eq!(row.signing_certificates, 2);
        assert_eq!(row.mfa_active, None, "a missing column is unknown");
    }

    #[test]
    fn key_slots_match_by_creation_second_then_by_order() {
        let csv = "user,arn,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
                   u,arn:aws:iam::1:user/u,true,2024-01-01T00:00:00+00:00,2024-03-01T00:00:00+00:00,true,2024-01-01T00:00:00+00:00,N/A\n\
                   v,arn:aws:iam::1:user/v,true,2024-01-01T00:00:00+00:00,N/A,true,2024-02-01T00:00:00+00:00,2024-02-02T00:00:00+00:00\n";
        let report = parse(&encode(csv), None).unwrap();
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

    #[test]
    fn broken_reports_are_errors() {
        assert!(parse("%%%", None)
            .unwrap_err()
            .starts_with("report content is not base64"));
        assert_eq!(
            parse(&encode("a,b\n1,2\n"), None).unwrap_err(),
            "report header lacks the user and arn columns"
        );
    }
}
