//! What a collection reads once, with its first page, and carries in its cursor: the
//! collection time, the account's user count and alias, and the root user.

use serde::{Deserialize, Serialize};

use crate::host::{Host, Level, TransportError};
use crate::model::{CollectionError, RecordField, RootRecord};
use crate::ocsf;
use crate::query::responses::{
    GetAccountSummaryResponse, GetCallerIdentityResponse, ListAccountAliasesResponse,
};
use crate::query::{self, requests, ListResponse, Operation};

/// What a collection reads once, with its first page, and carries in its cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFacts {
    /// The collection time every risk rule measures from, ms since the Unix epoch (the
    /// host clock when the first page began).
    pub collection_time: i64,
    /// GetAccountSummary `Users`; `None` when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_users: Option<u32>,
    /// ListAccountAliases; `None` when the account has none or it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_alias: Option<String>,
    /// The root user, when its event was asked for and its account is known (only the
    /// first page emits it).
    #[serde(skip)]
    pub root: Option<RootRecord>,
}

impl RunFacts {
    /// Reads GetAccountSummary, ListAccountAliases and (for the root user) STS
    /// GetCallerIdentity together; each failure is logged and leaves its fact unknown.
    pub fn read(host: &dyn Host, include_root: bool) -> Self {
        let mut calls = vec![
            requests::call::<GetAccountSummaryResponse>(&[]),
            requests::list_page(ListAccountAliasesResponse::ACTION, &[], 1, None),
        ];
        if include_root {
            calls.push(requests::call::<GetCallerIdentityResponse>(&[]));
        }
        let mut results = host.send_all(&calls).into_iter();
        let mut next = || {
            results
                .next()
                .unwrap_or_else(|| Err(TransportError::missing()))
        };
        let summary = query::parse_result::<GetAccountSummaryResponse>(&next())
            .map_err(|error| {
                host.log(
                    Level::Warn,
                    &format!("{error}; the account's user count is unknown"),
                );
                error
            })
            .ok();
        let account_alias = match query::parse_result::<ListAccountAliasesResponse>(&next()) {
            Ok(aliases) => aliases.into_page().items.into_iter().next(),
            Err(error) => {
                host.log(
                    Level::Warn,
                    &format!(
                        "{error}; {} is the account id",
                        ocsf::attribute(RecordField::AccountName)
                    ),
                );
                None
            }
        };
        let root = include_root
            .then(
                || match query::parse_result::<GetCallerIdentityResponse>(&next()) {
                    Ok(identity) => Some(RootRecord {
                        account_id: identity.result.account,
                        partition: host.identity().partition,
                        has_mfa: summary
                            .as_ref()
                            .and_then(|s| s.get("AccountMFAEnabled"))
                            .map(|n| n > 0),
                        access_keys_present: summary
                            .as_ref()
                            .and_then(|s| s.get("AccountAccessKeysPresent"))
                            .map(|n| n > 0),
                        created_ms: None,
                        password_last_used_ms: None,
                        access_keys: None,
                        risk: None,
                        errors: summary
                            .is_none()
                            .then(|| CollectionError {
                                action: GetAccountSummaryResponse::ACTION.into(),
                                code: "Unavailable".into(),
                            })
                            .into_iter()
                            .collect(),
                    }),
                    Err(error) => {
                        host.log(
                            Level::Warn,
                            &format!("{error}; the root user's event is left out"),
                        );
                        None
                    }
                },
            )
            .flatten();
        Self {
            collection_time: host.now_ms(),
            account_users: summary
                .as_ref()
                .and_then(|s| s.get("Users"))
                .and_then(|n| u32::try_from(n).ok()),
            account_alias,
            root,
        }
    }
}
