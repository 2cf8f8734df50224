//! Typed IAM responses, deserialized from Query API XML.
//!
//! Each List* response is `<{Action}Response><{Action}Result><{List}><member>…</member>
//! </{List}><IsTruncated/><Marker/></{Action}Result><ResponseMetadata/></{Action}Response>`.
//! An empty list may be `<Users/>`; an absent `IsTruncated` means false (ListAccessKeys and
//! ListSigningCertificates omit it). Timestamps stay ISO 8601 strings here; `model` parses
//! them. Source: IAM API Reference, each action's "Response Elements".

// The fields mirror the IAM and STS response elements they deserialize (each named by its
// serde rename or PascalCase, as the API Reference spells it); their docs are AWS's.
// Elements read only to check a response's shape (a probe's answer) stay declared.
#![allow(missing_docs, dead_code)]

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::operation::{Operation, Service};

/// One page of a List* action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// `IsTruncated`: another page follows.
    pub is_truncated: bool,
    /// `Marker` to send for the next page; empty markers are read as absent.
    pub marker: Option<String>,
}

/// A List* response: how to read its page.
pub trait ListResponse: Operation + DeserializeOwned {
    /// One listed element.
    type Item;
    /// The page this response carries.
    fn into_page(self) -> ListPage<Self::Item>;
}

/// The `<member>` elements of a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Members<T> {
    #[serde(rename = "member", default = "Vec::new")]
    pub member: Vec<T>,
}

impl<T> Default for Members<T> {
    fn default() -> Self {
        Self { member: Vec::new() }
    }
}

/// Makes `$response` the operation type of `$action` of `$service`.
macro_rules! operation {
    ($response:ident, $service:ident, $action:literal) => {
        impl Operation for $response {
            const SERVICE: Service = Service::$service;
            const ACTION: &'static str = $action;
        }
    };
}

macro_rules! list_response {
    (
        $(#[$doc:meta])*
        $response:ident / $result:ident = ($action:literal, $result_tag:literal, $list_tag:literal, $item:ty)
    ) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        pub struct $response {
            #[serde(rename = $result_tag)]
            pub result: $result,
        }

        #[doc = concat!("The `", $result_tag, "` element.")]
        #[derive(Debug, Deserialize)]
        pub struct $result {
            #[serde(rename = $list_tag, default)]
            pub items: Members<$item>,
            #[serde(rename = "IsTruncated", default)]
            pub is_truncated: bool,
            #[serde(rename = "Marker")]
            pub marker: Option<String>,
        }

        operation!($response, Iam, $action);

        impl ListResponse for $response {
            type Item = $item;
            fn into_page(self) -> ListPage<$item> {
                ListPage {
                    items: self.result.items.member,
                    is_truncated: self.result.is_truncated,
                    marker: self.result.marker.filter(|m| !m.is_empty()),
                }
            }
        }
    };
}

/// A `User` element. Source: IAM API Reference, data type `User`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserXml {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    /// ISO 8601, e.g. `2013-10-02T17:01:44Z` or with fractional seconds.
    pub create_date: String,
    /// ISO 8601; absent when the password was never used or the user has none.
    pub password_last_used: Option<String>,
    /// Only GetUser returns it (ListUsers does not).
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundaryXml>,
}

/// A `PermissionsBoundary` element (data type `AttachedPermissionsBoundary`): the managed
/// policy that caps the user's permissions. Source: IAM API Reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundaryXml {
    /// e.g. `arn:aws:iam::123456789012:policy/s3-only`.
    pub permissions_boundary_arn: String,
}

/// A `Group` element. Source: IAM API Reference, data type `Group`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupXml {
    pub path: String,
    pub group_name: String,
    pub group_id: String,
    pub arn: String,
    pub create_date: String,
}

/// An `MFADevice` element. Source: IAM API Reference, data type `MFADevice`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MfaDeviceXml {
    pub user_name: String,
    pub serial_number: String,
    /// ISO 8601.
    pub enable_date: String,
}

list_response! {
    /// ListUsers. Source: IAM API Reference, ListUsers.
    ListUsersResponse / ListUsersResult = ("ListUsers", "ListUsersResult", "Users", UserXml)
}

list_response! {
    /// ListGroupsForUser. Source: IAM API Reference, ListGroupsForUser.
    ListGroupsForUserResponse / ListGroupsForUserResult =
        ("ListGroupsForUser", "ListGroupsForUserResult", "Groups", GroupXml)
}

list_response! {
    /// ListMFADevices. Source: IAM API Reference, ListMFADevices.
    ListMfaDevicesResponse / ListMfaDevicesResult =
        ("ListMFADevices", "ListMFADevicesResult", "MFADevices", MfaDeviceXml)
}

/// An `AccessKeyMetadata` element. Source: IAM API Reference, data type `AccessKeyMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyXml {
    pub access_key_id: String,
    /// `Active` or `Inactive` (or `Expired` for some credential types).
    pub status: String,
    /// ISO 8601.
    pub create_date: String,
}

/// A `Tag` element. Source: IAM API Reference, data type `Tag`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagXml {
    pub key: String,
    /// Empty values come as `<Value/>`.
    #[serde(default)]
    pub value: String,
}

/// An `AttachedPolicy` element. Source: IAM API Reference, data type `AttachedPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicyXml {
    pub policy_name: String,
    pub policy_arn: String,
}

list_response! {
    /// ListGroups. Source: IAM API Reference, ListGroups.
    ListGroupsResponse / ListGroupsResult = ("ListGroups", "ListGroupsResult", "Groups", GroupXml)
}

list_response! {
    /// ListAccessKeys (omits `IsTruncated` when false). Source: IAM API Reference, ListAccessKeys.
    ListAccessKeysResponse / ListAccessKeysResult =
        ("ListAccessKeys", "ListAccessKeysResult", "AccessKeyMetadata", AccessKeyXml)
}

list_response! {
    /// ListUserTags. Source: IAM API Reference, ListUserTags.
    ListUserTagsResponse / ListUserTagsResult = ("ListUserTags", "ListUserTagsResult", "Tags", TagXml)
}

list_response! {
    /// ListUserPolicies: inline policy names. Source: IAM API Reference, ListUserPolicies.
    ListUserPoliciesResponse / ListUserPoliciesResult =
        ("ListUserPolicies", "ListUserPoliciesResult", "PolicyNames", String)
}

list_response! {
    /// ListAttachedUserPolicies. Source: IAM API Reference, ListAttachedUserPolicies.
    ListAttachedUserPoliciesResponse / ListAttachedUserPoliciesResult =
        ("ListAttachedUserPolicies", "ListAttachedUserPoliciesResult", "AttachedPolicies", AttachedPolicyXml)
}

/// An `SSHPublicKeyMetadata` element. Source: IAM API Reference, data type
/// `SSHPublicKeyMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SshPublicKeyXml {
    #[serde(rename = "SSHPublicKeyId")]
    pub ssh_public_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// ISO 8601.
    pub upload_date: String,
}

list_response! {
    /// ListSSHPublicKeys. Source: IAM API Reference, ListSSHPublicKeys.
    ListSshPublicKeysResponse / ListSshPublicKeysResult =
        ("ListSSHPublicKeys", "ListSSHPublicKeysResult", "SSHPublicKeys", SshPublicKeyXml)
}

/// A `SigningCertificate` element (its PEM body is not read). Source: IAM API Reference,
/// data type `SigningCertificate`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SigningCertificateXml {
    pub certificate_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// ISO 8601; absent in some endpoints' answers.
    pub upload_date: Option<String>,
}

list_response! {
    /// ListSigningCertificates (omits `IsTruncated` when false). Source: IAM API Reference,
    /// ListSigningCertificates.
    ListSigningCertificatesResponse / ListSigningCertificatesResult =
        ("ListSigningCertificates", "ListSigningCertificatesResult", "Certificates", SigningCertificateXml)
}

list_response! {
    /// ListServiceSpecificCredentials. Source: IAM API Reference, ListServiceSpecificCredentials.
    ListServiceSpecificCredentialsResponse / ListServiceSpecificCredentialsResult = (
        "ListServiceSpecificCredentials",
        "ListServiceSpecificCredentialsResult",
        "ServiceSpecificCredentials",
        ServiceSpecificCredentialXml
    )
}

list_response! {
    /// ListGroupPolicies: inline policy names. Source: IAM API Reference, ListGroupPolicies.
    ListGroupPoliciesResponse / ListGroupPoliciesResult =
        ("ListGroupPolicies", "ListGroupPoliciesResult", "PolicyNames", String)
}

list_response! {
    /// ListAttachedGroupPolicies. Source: IAM API Reference, ListAttachedGroupPolicies.
    ListAttachedGroupPoliciesResponse / ListAttachedGroupPoliciesResult =
        ("ListAttachedGroupPolicies", "ListAttachedGroupPoliciesResult", "AttachedPolicies", AttachedPolicyXml)
}

/// GetLoginProfile: the user has a console password. Errors: `NoSuchEntity` (HTTP 404) when
/// it has none. Source: IAM API Reference, GetLoginProfile.
#[derive(Debug, Deserialize)]
pub struct GetLoginProfileResponse {
    #[serde(rename = "GetLoginProfileResult")]
    pub result: GetLoginProfileResult,
}

operation!(GetLoginProfileResponse, Iam, "GetLoginProfile");

/// The `GetLoginProfileResult` element.
#[derive(Debug, Deserialize)]
pub struct GetLoginProfileResult {
    #[serde(rename = "LoginProfile")]
    pub login_profile: LoginProfileXml,
}

/// A `LoginProfile` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoginProfileXml {
    pub user_name: String,
    /// ISO 8601.
    pub create_date: String,
    #[serde(default)]
    pub password_reset_required: bool,
}

/// GetAccountSummary: IAM entity counts and quotas of the account.
/// Source: IAM API Reference, GetAccountSummary.
#[derive(Debug, Deserialize)]
pub struct GetAccountSummaryResponse {
    #[serde(rename = "GetAccountSummaryResult")]
    pub result: GetAccountSummaryResult,
}

operation!(GetAccountSummaryResponse, Iam, "GetAccountSummary");

/// The `GetAccountSummaryResult` element.
#[derive(Debug, Deserialize)]
pub struct GetAccountSummaryResult {
    #[serde(rename = "SummaryMap", default)]
    pub summary_map: SummaryMap,
}

/// `<SummaryMap><entry><key>Users</key><value>14</value></entry>…</SummaryMap>`.
#[derive(Debug, Default, Deserialize)]
pub struct SummaryMap {
    #[serde(rename = "entry", default)]
    pub entries: Vec<SummaryEntry>,
}

/// One `entry` of the summary map.
#[derive(Debug, Deserialize)]
pub struct SummaryEntry {
    pub key: String,
    pub value: u64,
}

impl GetAccountSummaryResponse {
    /// The value of `key` (e.g. `Users`), if the map has it.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.result
            .summary_map
            .entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value)
    }
}

/// GetUser: one user, with `PasswordLastUsed`. Source: IAM API Reference, GetUser.
#[derive(Debug, Deserialize)]
pub struct GetUserResponse {
    #[serde(rename = "GetUserResult")]
    pub result: GetUserResult,
}

operation!(GetUserResponse, Iam, "GetUser");

/// The `GetUserResult` element.
#[derive(Debug, Deserialize)]
pub struct GetUserResult {
    #[serde(rename = "User")]
    pub user: UserXml,
}

/// A `ServiceSpecificCredentialMetadata` element (CodeCommit, Keyspaces, Bedrock API
/// keys, …). Source: IAM API Reference, data type `ServiceSpecificCredentialMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceSpecificCredentialXml {
    pub user_name: String,
    pub service_specific_credential_id: String,
    /// e.g. `codecommit.amazonaws.com`, `bedrock.amazonaws.com`.
    pub service_name: String,
    /// `Active`, `Inactive` or `Expired`.
    pub status: String,
    /// ISO 8601.
    pub create_date: Option<String>,
    /// ISO 8601; only credentials created with an age limit (Bedrock API keys) expire.
    pub expiration_date: Option<String>,
    /// The user name the service knows (CodeCommit, Keyspaces).
    pub service_user_name: Option<String>,
    /// The credential's alias (Bedrock API keys).
    pub service_credential_alias: Option<String>,
}

/// A `UserDetail` of GetAccountAuthorizationDetails. Source: IAM API Reference, data type
/// `UserDetail` (it has no `PasswordLastUsed`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDetailXml {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub create_date: String,
    #[serde(default)]
    pub user_policy_list: Members<PolicyDetailXml>,
    #[serde(default)]
    pub group_list: Members<String>,
    #[serde(default)]
    pub attached_managed_policies: Members<AttachedPolicyXml>,
    #[serde(default)]
    pub tags: Members<TagXml>,
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundaryXml>,
}

/// A `GroupDetail` of GetAccountAuthorizationDetails.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDetailXml {
    pub group_name: String,
    pub arn: String,
    #[serde(default)]
    pub group_policy_list: Members<PolicyDetailXml>,
    #[serde(default)]
    pub attached_managed_policies: Members<AttachedPolicyXml>,
}

/// An inline policy of a `UserDetail`/`GroupDetail` (data type `PolicyDetail`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDetailXml {
    pub policy_name: String,
    /// The policy document, URL-encoded (RFC 3986).
    pub policy_document: Option<String>,
}

/// A `ManagedPolicyDetail` of GetAccountAuthorizationDetails (`Filter=LocalManagedPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicyDetailXml {
    pub policy_name: String,
    pub arn: String,
    /// e.g. `v3`.
    pub default_version_id: Option<String>,
    #[serde(default)]
    pub policy_version_list: Members<PolicyVersionXml>,
}

impl ManagedPolicyDetailXml {
    /// The URL-encoded document of the default version, if listed.
    pub fn default_document(&self) -> Option<&str> {
        let versions = &self.policy_version_list.member;
        versions
            .iter()
            .find(|v| v.is_default_version)
            .or_else(|| {
                versions
                    .iter()
                    .find(|v| Some(&v.version_id) == self.default_version_id.as_ref())
            })
            .and_then(|v| v.document.as_deref())
    }
}

/// A `PolicyVersion` element. Source: IAM API Reference, data type `PolicyVersion`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersionXml {
    /// URL-encoded (RFC 3986).
    pub document: Option<String>,
    pub version_id: String,
    #[serde(default)]
    pub is_default_version: bool,
}

/// GetAccountAuthorizationDetails (`Filter.member.1=User` or `Group`). Source: IAM API
/// Reference, GetAccountAuthorizationDetails.
#[derive(Debug, Deserialize)]
pub struct GetAccountAuthorizationDetailsResponse {
    #[serde(rename = "GetAccountAuthorizationDetailsResult")]
    pub result: GetAccountAuthorizationDetailsResult,
}

operation!(
    GetAccountAuthorizationDetailsResponse,
    Iam,
    "GetAccountAuthorizationDetails"
);

/// The `GetAccountAuthorizationDetailsResult` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetAccountAuthorizationDetailsResult {
    #[serde(default)]
    pub user_detail_list: Members<UserDetailXml>,
    #[serde(default)]
    pub group_detail_list: Members<GroupDetailXml>,
    #[serde(default)]
    pub policies: Members<ManagedPolicyDetailXml>,
    #[serde(default)]
    pub is_truncated: bool,
    pub marker: Option<String>,
}

/// GenerateCredentialReport. Source: IAM API Reference, GenerateCredentialReport.
#[derive(Debug, Deserialize)]
pub struct GenerateCredentialReportResponse {
    #[serde(rename = "GenerateCredentialReportResult")]
    pub result: GenerateCredentialReportResult,
}

operation!(
    GenerateCredentialReportResponse,
    Iam,
    "GenerateCredentialReport"
);

/// The `GenerateCredentialReportResult` element.
#[derive(Debug, Deserialize)]
pub struct GenerateCredentialReportResult {
    /// `STARTED`, `INPROGRESS` or `COMPLETE`.
    #[serde(rename = "State")]
    pub state: String,
}

/// GetCredentialReport. Errors: `ReportNotPresent`, `ReportExpired` (410),
/// `ReportInProgress` (404). Source: IAM API Reference, GetCredentialReport.
///
/// Borrows the report's text from the response body (read with [`crate::query::parse_borrowed`]),
/// so the report is never copied before it is decoded.
#[derive(Debug, Deserialize)]
pub struct GetCredentialReportResponse<'a> {
    #[serde(rename = "GetCredentialReportResult", borrow)]
    pub result: GetCredentialReportResult<'a>,
}

impl Operation for GetCredentialReportResponse<'_> {
    const SERVICE: Service = Service::Iam;
    const ACTION: &'static str = "GetCredentialReport";
}

/// The `GetCredentialReportResult` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCredentialReportResult<'a> {
    /// The CSV, base64-encoded (borrowed unless the XML escapes something in it).
    #[serde(borrow)]
    pub content: std::borrow::Cow<'a, str>,
    /// ISO 8601.
    pub generated_time: Option<String>,
}

/// STS GetCallerIdentity: who the credentials act as. Source: STS API Reference,
/// GetCallerIdentity.
#[derive(Debug, Deserialize)]
pub struct GetCallerIdentityResponse {
    #[serde(rename = "GetCallerIdentityResult")]
    pub result: GetCallerIdentityResult,
}

operation!(GetCallerIdentityResponse, Sts, "GetCallerIdentity");

/// The `GetCallerIdentityResult` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCallerIdentityResult {
    /// e.g. `arn:aws:iam::123456789012:user/automation/auditor` or an assumed-role ARN.
    pub arn: String,
    /// 12-digit account id.
    pub account: String,
}

/// GetUserPolicy and GetGroupPolicy: one inline policy and its document.
/// Source: IAM API Reference, GetUserPolicy, GetGroupPolicy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicyResultXml {
    pub policy_name: String,
    /// URL-encoded (RFC 3986).
    pub policy_document: String,
}

/// GetUserPolicy. Errors: `NoSuchEntity` when the user or policy is gone.
#[derive(Debug, Deserialize)]
pub struct GetUserPolicyResponse {
    #[serde(rename = "GetUserPolicyResult")]
    pub result: InlinePolicyResultXml,
}

operation!(GetUserPolicyResponse, Iam, "GetUserPolicy");

/// GetGroupPolicy. Errors: `NoSuchEntity` when the group or policy is gone.
#[derive(Debug, Deserialize)]
pub struct GetGroupPolicyResponse {
    #[serde(rename = "GetGroupPolicyResult")]
    pub result: InlinePolicyResultXml,
}

operation!(GetGroupPolicyResponse, Iam, "GetGroupPolicy");

/// GetPolicy: a managed policy's metadata, with its default version id.
/// Source: IAM API Reference, GetPolicy.
#[derive(Debug, Deserialize)]
pub struct GetPolicyResponse {
    #[serde(rename = "GetPolicyResult")]
    pub result: GetPolicyResult,
}

operation!(GetPolicyResponse, Iam, "GetPolicy");

/// The `GetPolicyResult` element.
#[derive(Debug, Deserialize)]
pub struct GetPolicyResult {
    #[serde(rename = "Policy")]
    pub policy: PolicyXml,
}

/// A `Policy` element (data type `Policy`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyXml {
    pub policy_name: String,
    pub arn: String,
    /// e.g. `v1`.
    pub default_version_id: String,
}

/// GetPolicyVersion: one version of a managed policy, with its document.
/// Source: IAM API Reference, GetPolicyVersion.
#[derive(Debug, Deserialize)]
pub struct GetPolicyVersionResponse {
    #[serde(rename = "GetPolicyVersionResult")]
    pub result: GetPolicyVersionResult,
}

operation!(GetPolicyVersionResponse, Iam, "GetPolicyVersion");

/// The `GetPolicyVersionResult` element.
#[derive(Debug, Deserialize)]
pub struct GetPolicyVersionResult {
    #[serde(rename = "PolicyVersion")]
    pub policy_version: PolicyVersionXml,
}

/// GetAccessKeyLastUsed. Source: IAM API Reference, GetAccessKeyLastUsed.
#[derive(Debug, Deserialize)]
pub struct GetAccessKeyLastUsedResponse {
    #[serde(rename = "GetAccessKeyLastUsedResult")]
    pub result: GetAccessKeyLastUsedResult,
}

operation!(GetAccessKeyLastUsedResponse, Iam, "GetAccessKeyLastUsed");

/// The `GetAccessKeyLastUsedResult` element.
#[derive(Debug, Deserialize)]
pub struct GetAccessKeyLastUsedResult {
    #[serde(rename = "AccessKeyLastUsed")]
    pub access_key_last_used: AccessKeyLastUsedXml,
}

/// An `AccessKeyLastUsed` element. A key never used has no `LastUsedDate` and `N/A` as
/// service and region.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyLastUsedXml {
    /// ISO 8601.
    pub last_used_date: Option<String>,
    /// e.g. `s3`, or `N/A`.
    pub service_name: Option<String>,
    /// e.g. `us-east-1`, or `N/A`.
    pub region: Option<String>,
}

/// GetGroup: a group and its users. Only the permission probe calls it (`MaxItems=1`).
/// Source: IAM API Reference, GetGroup.
#[derive(Debug, Deserialize)]
pub struct GetGroupResponse {
    #[serde(rename = "GetGroupResult")]
    pub result: GetGroupResult,
}

/// The `GetGroupResult` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetGroupResult {
    pub group: GroupXml,
    #[serde(default)]
    pub users: Members<UserXml>,
    #[serde(default)]
    pub is_truncated: bool,
    pub marker: Option<String>,
}

operation!(GetGroupResponse, Iam, "GetGroup");

list_response! {
    /// ListAccountAliases: at most one alias per account. Source: IAM API Reference,
    /// ListAccountAliases.
    ListAccountAliasesResponse / ListAccountAliasesResult =
        ("ListAccountAliases", "ListAccountAliasesResult", "AccountAliases", String)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;
    use crate::test_support::{fixture, response};

    fn page<T: ListResponse>(path: &str) -> ListPage<T::Item> {
        parse::<T>(&response(200, &fixture(path)))
            .unwrap()
            .into_page()
    }

    #[test]
    fn synthetic_list_users_page_with_marker() {
        let p = page::<ListUsersResponse>("synthetic/ListUsers.page1.xml");
        assert!(p.is_truncated);
        assert_eq!(
            p.marker.as_deref(),
            Some("AAMAAQAAAAEAAAAAAAAAAQEAAAAAAAAAEXAMPLEMARKER+/=")
        );
        assert_eq!(
            p.items,
            [
                UserXml {
                    path: "/".into(),
                    user_name: "alice".into(),
                    user_id: "AIDAZXCVBNMASDFGHJKL1".into(),
                    arn: "arn:aws:iam::111122223333:user/alice".into(),
                    create_date: "2019-03-14T09:26:53Z".into(),
                    password_last_used: Some("2024-11-02T18:05:11Z".into()),
                    permissions_boundary: None,
                },
                UserXml {
                    path: "/r&d/".into(),
                    user_name: "svc+deploy=bot@corp.example".into(),
                    user_id: "AIDAQWERTYUIOPLKJHGF2".into(),
                    arn: "arn:aws:iam::111122223333:user/r&d/svc+deploy=bot@corp.example".into(),
                    create_date: "2021-07-01T00:00:00Z".into(),
                    password_last_used: None,
                    permissions_boundary: None,
                },
            ]
        );
    }

    #[test]
    fn synthetic_last_page_without_marker() {
        let p = page::<ListUsersResponse>("synthetic/ListUsers.page2.xml");
        assert_eq!((p.is_truncated, p.marker), (false, None));
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].user_name, "bob");
        assert_eq!(p.items[0].create_date, "2023-01-09T12:00:01Z");
    }

    #[test]
    fn moto_list_users_with_fractional_timestamps_and_escaped_path() {
        let p = page::<ListUsersResponse>("moto/ListUsers.page1.xml");
        assert_eq!((p.is_truncated, p.marker.as_deref()), (false, None));
        let names: Vec<_> = p.items.iter().map(|u| u.user_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "alice",
                "bob",
                "carol",
                "dave",
                "erin",
                "frank",
                "grace",
                "heidi",
                "svc-ci",
                "svc+deploy=bot@corp.example",
                "peggy.o-neil_2",
                "mallory",
                "auditor",
                "admin-bot"
            ]
        );
        assert_eq!(p.items[0].create_date, "2026-11-29T15:53:17.387390Z");
        let peggy = &p.items[10];
        assert_eq!(peggy.path, "/r&d/");
        assert_eq!(
            peggy.arn,
            "arn:aws:iam::123456789012:user/r&d/peggy.o-neil_2"
        );
    }

    #[test]
    fn groups_for_user() {
        let p = page::<ListGroupsForUserResponse>("moto/ListGroupsForUser.carol.xml");
        assert!(!p.is_truncated);
        assert_eq!(
            p.items[0],
            GroupXml {
                path: "/engineering/".into(),
                group_name: "Developers".into(),
                group_id: "mgac6lav05qwzqo8vppu".into(),
                arn: "arn:aws:iam::123456789012:group/engineering/Developers".into(),
                create_date: "2026-11-29T15:53:17.309537Z".into(),
            }
        );
        assert_eq!(p.items[1].group_name, "ReadOnly");
        assert_eq!(p.items.len(), 2);
    }

    #[test]
    fn mfa_devices_one_and_empty_self_closing_list() {
        let p = page::<ListMfaDevicesResponse>("moto/ListMFADevices.alice.xml");
        assert_eq!(
            p.items,
            [MfaDeviceXml {
                user_name: "alice".into(),
                serial_number: "arn:aws:iam::123456789012:mfa/alice-mfa".into(),
                enable_date: "2026-11-29T15:53:17.431167Z".into(),
            }]
        );
        let empty = page::<ListMfaDevicesResponse>("moto/ListMFADevices.bob-empty.xml");
        assert_eq!((empty.items.len(), empty.is_truncated), (0, false));
    }

    #[test]
    fn missing_required_element_is_malformed() {
        let text = "<ListUsersResponse><ListUsersResult><Users><member><Path>/</Path>\
                    <UserId>AIDA1</UserId><Arn>arn:aws:iam::1:user/x</Arn>\
                    <CreateDate>2020-01-01T00:00:00Z</CreateDate></member></Users>\
                    </ListUsersResult></ListUsersResponse>";
        let err = parse::<ListUsersResponse>(&response(200, text)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListUsers returned an unreadable response (HTTP 200): missing field `UserName`"
        );
    }

    #[test]
    fn duplicated_element_is_malformed() {
        let text = "<ListUsersResponse><ListUsersResult><Users/><IsTruncated>false</IsTruncated>\
                    <IsTruncated>true</IsTruncated></ListUsersResult></ListUsersResponse>";
        let err = parse::<ListUsersResponse>(&response(200, text)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListUsers returned an unreadable response (HTTP 200): duplicate field `IsTruncated`"
        );
    }

    #[test]
    fn unknown_elements_are_ignored() {
        let text = "<ListUsersResponse><ListUsersResult><Users/><NewThing>x</NewThing>\
                    </ListUsersResult><ResponseMetadata><RequestId>r</RequestId>\
                    </ResponseMetadata></ListUsersResponse>";
        let p = parse::<ListUsersResponse>(&response(200, text))
            .unwrap()
            .into_page();
        assert_eq!((p.items.len(), p.is_truncated, p.marker), (0, false, None));
    }

    #[test]
    fn access_keys_without_is_truncated() {
        let p = page::<ListAccessKeysResponse>("moto/ListAccessKeys.alice.xml");
        assert_eq!((p.is_truncated, p.marker.as_deref()), (false, None));
        assert_eq!(
            p.items,
            [
                AccessKeyXml {
                    access_key_id: "AKIARZPUZDIKE6K4PT5N".into(),
                    status: "Active".into(),
                    create_date: "2026-11-29T15:53:17.409575Z".into(),
                },
                AccessKeyXml {
                    access_key_id: "AKIARZPUZDIKHUHSNSTI".into(),
                    status: "Inactive".into(),
                    create_date: "2026-11-29T15:53:17.413738Z".into(),
                },
            ]
        );
        assert!(
            page::<ListAccessKeysResponse>("moto/ListAccessKeys.erin-empty.xml")
                .items
                .is_empty()
        );
    }

    #[test]
    fn tags_with_unicode_empty_values_and_escapes() {
        let carol = page::<ListUserTagsResponse>("moto/ListUserTags.carol-unicode-emptyvalue.xml");
        assert_eq!(
            carol.items,
            [
                TagXml {
                    key: "location".into(),
                    value: "東京".into()
                },
                TagXml {
                    key: "empty".into(),
                    value: String::new()
                },
            ]
        );
        let frank = page::<ListUserTagsResponse>("moto/ListUserTags.frank-xml-special.xml");
        assert_eq!(frank.items[1].value, "R&D <core> \"quoted\" 'single' a>b");
        assert!(
            page::<ListUserTagsResponse>("moto/ListUserTags.grace-empty.xml")
                .items
                .is_empty()
        );
    }

    #[test]
    fn policy_names_and_attached_policies_with_marker() {
        let inline = page::<ListUserPoliciesResponse>("moto/ListUserPolicies.bob.xml");
        assert_eq!(inline.items, ["bob-sqs"]);
        let attached = page::<ListAttachedUserPoliciesResponse>(
            "moto/ListAttachedUserPolicies.svc-ci.MaxItems1.xml",
        );
        assert_eq!(
            (attached.is_truncated, attached.marker.as_deref()),
            (true, Some("1"))
        );
        assert_eq!(
            attached.items,
            [AttachedPolicyXml {
                policy_name: "DevS3Access".into(),
                policy_arn: "arn:aws:iam::123456789012:policy/custom/DevS3Access".into(),
            }]
        );
        let group_inline =
            page::<ListGroupPoliciesResponse>("moto/ListGroupPolicies.Developers.xml");
        assert_eq!(group_inline.items, ["dev-inline"]);
        let group_attached = page::<ListAttachedGroupPoliciesResponse>(
            "moto/ListAttachedGroupPolicies.Developers.xml",
        );
        assert_eq!(group_attached.items[0].policy_name, "DevS3Access");
    }

    #[test]
    fn counted_lists() {
        assert_eq!(
            page::<ListSshPublicKeysResponse>("moto/ListSSHPublicKeys.dave.xml")
                .items
                .len(),
            1
        );
        assert_eq!(
            page::<ListSigningCertificatesResponse>("moto/ListSigningCertificates.alice-empty.xml")
                .items
                .len(),
            0
        );
    }

    #[test]
    fn login_profile_and_account_summary() {
        let profile = parse::<GetLoginProfileResponse>(&response(
            200,
            &fixture("moto/GetLoginProfile.alice.xml"),
        ))
        .unwrap();
        assert_eq!(profile.result.login_profile.user_name, "alice");
        assert!(!profile.result.login_profile.password_reset_required);
        let summary = parse::<GetAccountSummaryResponse>(&response(
            200,
            &fixture("moto/GetAccountSummary.xml"),
        ))
        .unwrap();
        assert_eq!(
            (
                summary.get("Users"),
                summary.get("Groups"),
                summary.get("Nope")
            ),
            (Some(14), Some(4), None)
        );
    }

    #[test]
    fn caller_identity() {
        let identity = parse::<GetCallerIdentityResponse>(&response(
            200,
            &fixture("moto/sts.GetCallerIdentity.authmode.xml"),
        ))
        .unwrap();
        assert_eq!(
            identity.result.arn,
            "arn:aws:iam::123456789012:user/automation/auditor"
        );
        assert_eq!(identity.result.account, "123456789012");
    }
}
