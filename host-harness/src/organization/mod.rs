//! Organization mode (`--organization`, `--accounts`): one run over many accounts.
//!
//! With the configured credentials (of the management account or a delegated administrator),
//! the host lists the organization's ACTIVE accounts ([`discovery`], Organizations
//! ListAccounts), or takes `--accounts`, assumes `arn:<partition>:iam::<id>:role/<member role>`
//! in each (STS AssumeRole, [`crate::credentials::RoleAssumer`]) and runs one fresh component
//! instance per account, `--max-accounts-in-flight` at once ([`fanout`]). Pages are written
//! whole to one NDJSON stream or to one file per account, and an organization checkpoint
//! records the finished accounts and each unfinished one's cursor ([`state`]). Only the host
//! talks to Organizations and STS AssumeRole; every component instance keeps the IAM/STS
//! read-only allowlist of [`crate::actions`].
//!
//! Layering: this module sits beside [`crate::app`]'s single-account path and uses the same
//! pieces (credentials, transport, sandbox, [`crate::run::collect`], checkpoint files); none
//! of them depends on it.

pub mod discovery;
pub mod fanout;
pub mod state;

use std::fmt;

use crate::endpoint::Partition;
use crate::error::ConfigError;

/// One account to inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// Its name in the organization (ListAccounts `Name`); `None` for an account given with
    /// `--accounts` alone.
    pub name: Option<String>,
}

impl fmt::Display for Account {
    /// `111122223333` or `111122223333 (dev)`; the name escaped as AWS text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(
                f,
                "{} ({})",
                self.id,
                crate::escape::escape_text(&crate::escape::truncate(name, 128))
            ),
            None => f.write_str(&self.id),
        }
    }
}

/// Whether `id` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The `--accounts` list: each a 12-digit id (surrounding spaces ignored), duplicates
/// dropped, order kept.
///
/// Errors: [`ConfigError::InvalidSetting`] naming the first id that is not one.
pub fn parse_accounts(ids: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut accounts: Vec<String> = Vec::new();
    for id in ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()) {
        if !is_account_id(id) {
            return Err(ConfigError::InvalidSetting(format!(
                "--accounts: {:?} is not an AWS account id (12 digits)",
                crate::escape::truncate(id, 64)
            )));
        }
        if !accounts.iter().any(|known| known == id) {
            accounts.push(id.to_owned());
        }
    }
    Ok(accounts)
}

/// Checks `--member-role`: a role name, optionally after a path (`reader`,
/// `security/reader`), of IAM's role-name characters (letters, digits, `+=,.@_-`, and `/`
/// between path parts), at most 512 characters.
///
/// Errors: [`ConfigError::InvalidSetting`] saying why.
pub fn validate_member_role(name: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| {
        Err(ConfigError::InvalidSetting(format!(
            "--member-role {:?}: {reason}",
            crate::escape::truncate(name, 64)
        )))
    };
    if name.is_empty() || name.len() > 512 {
        return invalid("a role name has 1 to 512 characters");
    }
    if name.contains(':') || name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return invalid("give the role's name (after its path, if any), not an ARN or a path");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
    if !name.chars().all(allowed) {
        return invalid("only letters, digits, +=,.@_- and / between path parts are allowed");
    }
    Ok(())
}

/// `arn:<partition>:iam::<account>:role/<member role>`: the role assumed in `account`.
pub fn member_role_arn(partition: &Partition, account: &str, member_role: &str) -> String {
    format!("arn:{}:iam::{account}:role/{member_role}", partition.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_lists_are_ids_deduplicated_in_order() {
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_accounts(&ids(&["222233334444", " 111122223333", "222233334444", ""])).unwrap(),
            ["222233334444", "111122223333"]
        );
        for bad in [
            "12345678901",
            "1234567890123",
            "12345678901a",
            "１２３４５６７８９０１２",
        ] {
            let error = parse_accounts(&ids(&[bad])).unwrap_err().to_string();
            assert!(
                error.contains("is not an AWS account id (12 digits)"),
                "{error}"
            );
        }
    }

    #[test]
    fn member_roles_are_names_with_an_optional_path() {
        for good in [
            "OrganizationAccountAccessRole",
            "security/aws-iam-users-reader",
            "a+b=c,d.e@f_g-h",
        ] {
            validate_member_role(good).unwrap();
        }
        for bad in [
            "",
            "/reader",
            "reader/",
            "a//b",
            "arn:aws:iam::111122223333:role/reader",
            "read er",
            &"r".repeat(513),
        ] {
            assert!(validate_member_role(bad).is_err(), "{bad:?}");
        }
        let (aws, _) = Partition::of_region("eu-west-1").unwrap();
        assert_eq!(
            member_role_arn(aws, "111122223333", "security/reader"),
            "arn:aws:iam::111122223333:role/security/reader"
        );
        let (china, _) = Partition::of_region("cn-north-1").unwrap();
        assert_eq!(
            member_role_arn(china, "111122223333", "reader"),
            "arn:aws-cn:iam::111122223333:role/reader"
        );
    }

    #[test]
    fn an_account_shows_its_name_escaped() {
        let account = Account {
            id: "111122223333".into(),
            name: Some("dev\nsummary: forged".into()),
        };
        assert_eq!(account.to_string(), "111122223333 (dev\\nsummary: forged)");
    }
}
