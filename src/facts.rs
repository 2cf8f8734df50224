//! The risk rules' facts ([`crate::risk::Facts`]) read off a collected record, and the
//! root user's facts from the credential report.
//!
//! Unknown stays unknown: a fact whose call failed is `None` / [`risk::LastUsed::Unknown`],
//! so the rules it feeds are listed as not evaluated rather than passed.

use crate::credential_report::ReportRow;
use crate::model::{AccessKey, LastUsed, RootRecord, UserRecord};
use crate::policy::Verdict;
use crate::query::responses::{GetUserResponse, ListUsersResponse};
use crate::query::Operation;
use crate::risk::{self, AccessKeyFacts, Facts};

/// The risk facts of an IAM user, measured at `now_ms` (ms since the Unix epoch).
pub fn user_facts(record: &UserRecord, now_ms: i64) -> Facts {
    let password_last_used = match record.user.password_last_used_ms {
        Some(ms) => risk::LastUsed::At(ms),
        // `PasswordLastUsed` is absent when never used, unless the call that tells failed.
        None if password_use_unknown(record) => risk::LastUsed::Unknown,
        None => risk::LastUsed::Never,
    };
    let direct_policies = match (&record.user_policies, &record.attached_policies) {
        (Some(inline), Some(attached)) => u32::try_from(inline.len() + attached.len()).ok(),
        _ => None,
    };
    Facts {
        now_ms,
        is_root: false,
        console_password: record.console_access,
        password_last_used,
        password_last_changed_ms: record.console_password.and_then(|p| p.changed_ms),
        user_created_ms: record.user.created_ms,
        has_mfa: record.has_mfa,
        is_admin: record.admin.as_ref().and_then(|a| match a.verdict {
            Verdict::Admin => Some(true),
            Verdict::NotAdmin => Some(false),
            Verdict::Unknown => None,
        }),
        access_keys: record
            .access_keys
            .as_ref()
            .map(|keys| keys.iter().map(key_facts).collect()),
        direct_policies,
    }
}

/// Whether the user's `PasswordLastUsed` could not be read (ListUsers' or GetUser's
/// answer was unreadable or failed, or the bulk listing lacked it and GetUser failed).
fn password_use_unknown(record: &UserRecord) -> bool {
    record
        .errors
        .iter()
        .any(|e| e.action == ListUsersResponse::ACTION || e.action == GetUserResponse::ACTION)
}

fn key_facts(key: &AccessKey) -> AccessKeyFacts {
    AccessKeyFacts {
        id: key.id.clone(),
        active: key.is_active(),
        created_ms: key.created_ms,
        last_used: match &key.last_used {
            Some(LastUsed::At { ms, .. }) => risk::LastUsed::At(*ms),
            Some(LastUsed::Never) => risk::LastUsed::Never,
            None => risk::LastUsed::Unknown,
        },
    }
}

/// The risk facts of the root user, measured at `now_ms`.
pub fn root_facts(root: &RootRecord, now_ms: i64) -> Facts {
    let access_keys = match (&root.access_keys, root.access_keys_present) {
        (Some(keys), _) => Some(keys.iter().map(key_facts).collect()),
        // GetAccountSummary alone: no key, or keys of unknown status.
        (None, Some(false)) => Some(Vec::new()),
        (None, _) => None,
    };
    Facts {
        now_ms,
        is_root: true,
        console_password: Some(true),
        password_last_used: match (root.password_last_used_ms, &root.access_keys) {
            (Some(ms), _) => risk::LastUsed::At(ms),
            // The report was read and names no use.
            (None, Some(_)) => risk::LastUsed::Never,
            (None, None) => risk::LastUsed::Unknown,
        },
        password_last_changed_ms: None,
        user_created_ms: root.created_ms,
        has_mfa: root.has_mfa,
        is_admin: Some(true),
        access_keys,
        direct_policies: None,
    }
}

/// Completes `root` with the credential report's `<root_account>` row: creation time,
/// password last used, MFA, and the two key slots (labelled `access_key_1`/`_2`: the
/// report does not name root keys).
pub fn root_from_report(root: &mut RootRecord, row: &ReportRow) {
    root.created_ms = row.created_ms;
    root.password_last_used_ms = row.password_last_used_ms;
    if row.mfa_active.is_some() {
        root.has_mfa = row.mfa_active;
    }
    root.access_keys = Some(
        row.keys
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.holds_a_key())
            .map(|(i, slot)| AccessKey {
                id: format!("access_key_{}", i + 1),
                status: if slot.active == Some(true) {
                    "Active".into()
                } else {
                    "Inactive".into()
                },
                created_ms: slot.rotated_ms,
                last_used: Some(match slot.last_used_ms {
                    Some(ms) => LastUsed::At {
                        ms,
                        service: slot.last_used_service.as_deref().map(str::to_owned),
                        region: slot.last_used_region.as_deref().map(str::to_owned),
                    },
                    None => LastUsed::Never,
                }),
            })
            .collect(),
    );
}
