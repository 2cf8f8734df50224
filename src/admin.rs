//! The administrator rule applied to one user: every policy that applies to it (its inline
//! and attached policies, those of each of its groups) and its permissions boundary,
//! gathered from what the collection read, judged by [`crate::policy::assess`].
//!
//! What the collection could not read counts as unreadable, so "not admin" is only said
//! when the documents say so: a failed ListUserPolicies, ListAttachedUserPolicies or
//! ListGroupsForUser, a group whose policies could not be listed, a customer-managed
//! policy whose default version could not be read, an unknown boundary.

use std::collections::HashMap;

use crate::model::{AttachedPolicy, InlinePolicy, UserRecord};
use crate::policy::{self, AdminAssessment, PolicyDocument, PolicySource};
use crate::query::responses::{
    GetUserResponse, ListAttachedUserPoliciesResponse, ListGroupsForUserResponse,
    ListUserPoliciesResponse,
};
use crate::query::Operation;

/// A group's own policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPolicies {
    /// Inline policies (ListGroupPolicies + GetGroupPolicy, or the `GroupDetail`).
    pub inline: Vec<InlinePolicy>,
    /// Attached managed policies (ListAttachedGroupPolicies, or the `GroupDetail`).
    pub attached: Vec<AttachedPolicy>,
}

impl GroupPolicies {
    /// The group's privileges as events list them: inline policy names, then attached
    /// policy names, each sorted.
    pub fn privileges(&self) -> Vec<String> {
        group_privileges(
            self.inline.iter().map(|p| p.name.clone()).collect(),
            self.attached.iter().map(|p| p.name.clone()).collect(),
        )
    }
}

/// A group's privileges: its inline policy names, then its attached policy names, each
/// sorted, so every strategy reports them the same way.
pub fn group_privileges(mut inline: Vec<String>, mut attached: Vec<String>) -> Vec<String> {
    inline.sort_unstable();
    attached.sort_unstable();
    inline.extend(attached);
    inline
}

/// Customer-managed policies by ARN: the default version's document, `None` when it could
/// not be read. AWS-managed policies are never looked up (they are judged by ARN).
pub type ManagedDocuments = HashMap<String, Option<PolicyDocument>>;

/// Whether `arn` names an AWS-managed policy (`arn:<partition>:iam::aws:policy/…`).
pub fn is_aws_managed(arn: &str) -> bool {
    policy::aws_managed_grants_admin(arn).is_some()
}

/// Judges `record` from its own policies, `groups` (by group name; `None` when the
/// group's policies could not be listed) and `managed`.
pub fn assess<'a>(
    record: &UserRecord,
    groups: impl Fn(&str) -> Option<&'a GroupPolicies>,
    managed: &ManagedDocuments,
) -> AdminAssessment {
    let mut sources = Vec::new();
    let managed_source = |arn: &str| -> PolicySource {
        if is_aws_managed(arn) {
            PolicySource::aws_managed(arn)
        } else {
            match managed.get(arn) {
                Some(Some(document)) => PolicySource::document(arn, document.clone()),
                _ => PolicySource::unreadable(arn),
            }
        }
    };
    let inline_source = |policy: &InlinePolicy| match &policy.document {
        Some(document) => PolicySource::document(&policy.name, document.clone()),
        None => PolicySource::unreadable(&policy.name),
    };
    match &record.user_policies {
        Some(policies) => sources.extend(policies.iter().map(inline_source)),
        None => sources.push(PolicySource::unreadable(ListUserPoliciesResponse::ACTION)),
    }
    match &record.attached_policies {
        Some(policies) => sources.extend(policies.iter().map(|p| managed_source(&p.arn))),
        None => sources.push(PolicySource::unreadable(
            ListAttachedUserPoliciesResponse::ACTION,
        )),
    }
    match &record.groups {
        Some(list) => {
            for group in list {
                match groups(&group.name) {
                    Some(policies) => {
                        sources.extend(policies.inline.iter().map(inline_source));
                        sources.extend(policies.attached.iter().map(|p| managed_source(&p.arn)));
                    }
                    None => sources.push(PolicySource::unreadable(&group.arn)),
                }
            }
        }
        None => sources.push(PolicySource::unreadable(ListGroupsForUserResponse::ACTION)),
    }
    let boundary = match &record.permissions_boundary {
        Some(Some(arn)) => Some(managed_source(arn)),
        Some(None) => None,
        None => Some(PolicySource::unreadable(GetUserResponse::ACTION)),
    };
    policy::assess(&sources, boundary.as_ref())
}
