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

/// What the report says about one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRow {
    /// `user_creation_time`, ms.
    pub created_ms: Option<i64>,
    /// `password_enabled`: the user has a console password.
    pub password_enabled: Option<bool>,
    /// `password_last_used`, ms; `None` when never used or unknown.
    pub password_last_used_ms: Option<i64>,
    /// `mfa_active`.
    pub mfa_active: Option<bool>,
    /// `access_key_1/2`: the user holds at least one access key (active or not).
    pub has_access_keys: bool,
    /// `cert_1/2`: signing certificates the user holds.
    pub signing_certificates: u32,
}

/// A parsed report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialReport {
    /// `GeneratedTime`, ms; users created after it are not in the report.
    pub generated_ms: Option<i64>,
    /// Rows by user ARN.
    pub rows: HashMap<String, ReportRow>,
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
        "mfa_active",
        "access_key_1_active",
        "access_key_1_last_rotated",
        "access_key_2_active",
        "access_key_2_last_rotated",
        "cert_1_active",
        "cert_1_last_rotated",
        "cert_2_active",
        "cert_2_last_rotated",
    ]
    .map(column);
    let mut rows = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("report is not CSV: {e}"))?;
        if record.get(user) == Some("<root_account>") {
            continue;
        }
        let Some(arn) = record.get(arn) else { continue };
        let field = |i: usize| {
            columns[i]
                .and_then(|c| record.get(c))
                .filter(|v| !is_sentinel(v))
        };
        let flag = |i: usize| field(i).and_then(|v| v.parse::<bool>().ok());
        let held = |active: usize, rotated: usize| {
            flag(active) == Some(true) || field(rotated).and_then(timestamp_ms).is_some()
        };
        rows.insert(
            arn.to_owned(),
            ReportRow {
                created_ms: field(0).and_then(timestamp_ms),
                password_enabled: flag(1),
                password_last_used_ms: field(2).and_then(timestamp_ms),
                mfa_active: flag(3),
                has_access_keys: held(4, 5) || held(6, 7),
                signing_certificates: u32::from(held(8, 9)) + u32::from(held(10, 11)),
            },
        );
    }
    Ok(CredentialReport {
        generated_ms: generated.and_then(timestamp_ms),
        rows,
    })
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
        assert_eq!(report.rows.len(), 3, "the root account row is skipped");
        assert_eq!(
            report.row("arn:aws:iam::111122223333:user/alice"),
            Some(&ReportRow {
                created_ms: Some(1_552_555_613_000),
                password_enabled: Some(true),
                password_last_used_ms: Some(1_730_570_711_000),
                mfa_active: Some(true),
                has_access_keys: true,
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
        assert!(!bob.has_access_keys);
        let svc = report
            .row("arn:aws:iam::111122223333:user/r&d/svc+deploy=bot@corp.example")
            .unwrap();
        assert_eq!(
            (svc.password_enabled, svc.has_access_keys),
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
        assert!(alice.has_access_keys);
        assert_eq!(report.generated_ms, None);
    }

    #[test]
    fn an_inactive_key_still_counts_as_held_and_certificates_are_counted() {
        let csv = "user,arn,access_key_1_active,access_key_1_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
                   u,arn:aws:iam::1:user/u,false,2024-01-01T00:00:00+00:00,true,2024-01-01T00:00:00+00:00,false,2024-02-01T00:00:00+00:00\n";
        let report = parse(&encode(csv), None).unwrap();
        let row = report.row("arn:aws:iam::1:user/u").unwrap();
        assert!(row.has_access_keys);
        assert_eq!(row.signing_certificates, 2);
        assert_eq!(row.mfa_active, None, "a missing column is unknown");
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
