//! Whether an IAM user is an effective administrator, judged from IAM policy documents
//! (never from policy names: a policy named `admin-notes` may allow one S3 read, one named
//! `ops-helper` may allow everything).
//!
//! Pure: the caller fetches the documents (GetUserPolicy, GetGroupPolicy, GetPolicyVersion,
//! or GetAccountAuthorizationDetails), decodes them with [`decode_document`] and passes
//! every policy that applies to the user to [`assess`].
//!
//! # The rule
//!
//! An action element *covers every IAM action* when it is all `*` (`*`, `**`), or when it
//! is `service:action` with the action part all `*` and the service part, as an IAM glob
//! (`*` any run, `?` one character, ASCII case-insensitive), matching `iam`: `*`, `*:*`,
//! `iam:*`, `IAM:*`, `i*:*` cover every IAM action; `iam:Get*`, `s3:*`, `iam:CreateUser` do
//! not. `iam:*` counts because it lets the user grant itself anything (privilege escalation).
//! A resource element *covers every resource* when it is all `*`.
//!
//! - A statement **grants admin** when its `Effect` is `Allow`, it has `Action` (not
//!   `NotAction`) with an element covering every IAM action, and `Resource` (not
//!   `NotResource`) with an element covering every resource. A `Condition` does not change
//!   this.
//! - A statement **denies admin** when its `Effect` is `Deny`, it has no `Condition`, and it
//!   has `Action` with an element covering every IAM action and `Resource` with an element
//!   covering every resource.
//! - A document grants (denies) admin when one of its statements does.
//! - An AWS-managed policy is judged by its ARN ([`aws_managed_grants_admin`]):
//!   `arn:<partition>:iam::aws:policy/AdministratorAccess` and `…/IAMFullAccess` grant
//!   admin, every other AWS-managed policy does not; none denies.
//! - A user ([`assess`]), in this order:
//!   1. a readable policy (a document) denies admin → [`Verdict::NotAdmin`];
//!   2. a permissions boundary is set, readable, and does not grant admin (or denies it) →
//!      [`Verdict::NotAdmin`]: the boundary caps whatever the policies allow, readable or not;
//!   3. a policy grants admin → [`Verdict::Unknown`] if the boundary is unreadable, else
//!      [`Verdict::Admin`];
//!   4. a policy is unreadable → [`Verdict::Unknown`]: "not admin" needs every document to
//!      say so (an unreadable boundary alone cannot grant, so it does not count here);
//!   5. otherwise [`Verdict::NotAdmin`].
//!
//! Not seen here: service control policies and resource control policies of an AWS
//! Organization, session policies, and resource-based policies. An SCP may cap a user this
//! module reports as admin; the report shows the risk within the account.
//!
//! Source: IAM User Guide, "IAM JSON policy elements reference", "Grammar of the IAM JSON
//! policy language", and "Policy evaluation logic" (an explicit deny overrides any allow;
//! a permissions boundary limits identity-based policies).

#![warn(missing_docs)]

use serde_json::{Map, Value};

/// The largest input [`decode_document`] reads, in bytes (1 MiB). IAM's own limits are far
/// below it, even percent-encoded (at most three bytes a character) and pretty-printed:
/// 6,144 characters for a managed policy, 2,048 for all inline policies of a user together,
/// 5,120 for those of a group (whitespace not counted). Source: IAM User Guide, "IAM and
/// AWS STS quotas".
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Why a policy document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The input is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("policy document is {bytes} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Length of the input, in bytes.
        bytes: usize,
        /// [`MAX_DOCUMENT_BYTES`].
        limit: usize,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("policy document has a bad percent-encoding at byte {offset}")]
    BadPercentEncoding {
        /// Byte offset of the `%` in the input.
        offset: usize,
    },
    /// The percent-decoded bytes are not UTF-8.
    #[error("decoded policy document is not UTF-8 (at byte {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid byte in the decoded document.
        offset: usize,
    },
    /// The document is not JSON.
    #[error("policy document is not JSON: {0}")]
    NotJson(String),
    /// A required element is absent, e.g. `Statement` or `Statement[0].Effect`.
    #[error("policy document has no {element}")]
    Missing {
        /// Path of the element, e.g. `Statement[0].Action or NotAction`.
        element: String,
    },
    /// An element has the wrong JSON type.
    #[error("{element} must be {expected}")]
    WrongType {
        /// Path of the element, e.g. `Statement`, `Statement[1].Resource[0]`.
        element: String,
        /// What IAM's grammar allows there.
        expected: &'static str,
    },
    /// A statement has both of two exclusive elements.
    #[error("{statement} has both {first} and {second}")]
    Both {
        /// Path of the statement, e.g. `Statement[0]`.
        statement: String,
        /// `Action` or `Resource`.
        first: &'static str,
        /// `NotAction` or `NotResource`.
        second: &'static str,
    },
    /// `Effect` is neither `Allow` nor `Deny` (the value is case-sensitive).
    #[error("{element} is {value:?}, not \"Allow\" or \"Deny\"")]
    BadEffect {
        /// Path of the element, e.g. `Statement[0].Effect`.
        element: String,
        /// The value found.
        value: String,
    },
}

/// A policy document: its statements, in document order.
///
/// Source: IAM User Guide, "IAM JSON policy elements: Statement" (`Statement` is one object
/// or an array of objects). `Version` and `Id` are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// The statements; empty if `Statement` is an empty array.
    pub statements: Vec<Statement>,
}

/// `Effect` of a statement. Source: IAM User Guide, "IAM JSON policy elements: Effect".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

/// A list element that IAM also accepts in a negated form: `Action`/`NotAction`,
/// `Resource`/`NotResource`. A single string is read as a list of one.
///
/// Source: IAM User Guide, "IAM JSON policy elements: Action", "NotAction", "Resource",
/// "NotResource".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// `Action` or `Resource`: the statement applies to what an element matches.
    Listed(Vec<String>),
    /// `NotAction` or `NotResource`: the statement applies to what no element matches.
    AllBut(Vec<String>),
}

/// One statement of a policy document. `Principal` and `NotPrincipal` (meaningless in an
/// identity policy) and unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Action` or `NotAction`.
    pub action: Matcher,
    /// `Resource` or `NotResource`.
    pub resource: Matcher,
    /// The statement has a `Condition` (an object; its content is not evaluated).
    pub conditional: bool,
}

impl Statement {
    /// Whether the statement grants admin: `Allow`, an `Action` element covering every IAM
    /// action and a `Resource` element that is all `*` (see the module documentation).
    pub fn grants_admin(&self) -> bool {
        // A Condition is not evaluated: a conditional grant of everything is still reported,
        // since an inventory should err toward showing the risk (conditions such as
        // aws:SourceIp or aws:MultiFactorAuthPresent are often met by an attacker too).
        self.effect == Effect::Allow && self.all_actions_on_all_resources()
    }

    /// Whether the statement denies admin: `Deny` without a `Condition`, an `Action` element
    /// covering every IAM action and a `Resource` element that is all `*`.
    pub fn denies_admin(&self) -> bool {
        // Only an unconditional deny is certain to apply.
        self.effect == Effect::Deny && !self.conditional && self.all_actions_on_all_resources()
    }

    fn all_actions_on_all_resources(&self) -> bool {
        // NotAction/NotResource are not followed: they are judged as neither granting nor
        // denying everything, whatever they exclude.
        let actions = matches!(&self.action, Matcher::Listed(a)
            if a.iter().any(|e| covers_every_iam_action(e)));
        let resources = matches!(&self.resource, Matcher::Listed(r)
            if r.iter().any(|e| is_all_stars(e)));
        actions && resources
    }
}

impl PolicyDocument {
    /// Whether a statement grants admin ([`Statement::grants_admin`]).
    pub fn grants_admin(&self) -> bool {
        self.statements.iter().any(Statement::grants_admin)
    }

    /// Whether a statement denies admin ([`Statement::denies_admin`]).
    pub fn denies_admin(&self) -> bool {
        self.statements.iter().any(Statement::denies_admin)
    }
}

/// Decodes a policy document as IAM returns it and parses it.
///
/// `url_encoded` is percent-encoded per RFC 3986 (GetUserPolicy, GetGroupPolicy,
/// GetPolicyVersion, GetAccountAuthorizationDetails `PolicyDocument`/`Document`): `%XX` is
/// a byte, and `+` is a literal `+` (RFC 3986 has no `+`-for-space; IAM encodes a space as
/// `%20`). A document that is already JSON (starts with `{` after trimming whitespace, as
/// some emulators send it) is parsed as is, without percent-decoding.
///
/// Errors: [`PolicyError::TooLarge`] over [`MAX_DOCUMENT_BYTES`];
/// [`PolicyError::BadPercentEncoding`], [`PolicyError::NotUtf8`], [`PolicyError::NotJson`];
/// [`PolicyError::Missing`], [`PolicyError::WrongType`], [`PolicyError::Both`] or
/// [`PolicyError::BadEffect`] when the JSON does not follow IAM's policy grammar.
///
/// Source: IAM API Reference, GetUserPolicy ("URL-encoded compliant with RFC 3986"); IAM
/// User Guide, "Grammar of the IAM JSON policy language".
pub fn decode_document(url_encoded: &str) -> Result<PolicyDocument, PolicyError> {
    if url_encoded.len() > MAX_DOCUMENT_BYTES {
        return Err(PolicyError::TooLarge {
            bytes: url_encoded.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let trimmed = url_encoded.trim();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed)
    } else {
        let bytes = percent_decode(trimmed)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| PolicyError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        serde_json::from_str(text)
    }
    .map_err(|e| PolicyError::NotJson(e.to_string()))?;
    parse_document(&value)
}

/// Strict RFC 3986 percent-decoding: every `%` must start a `%XX` escape.
fn percent_decode(text: &str) -> Result<Vec<u8>, PolicyError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&h| (h as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                // Two hex digits are at most 0xFF.
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(PolicyError::BadPercentEncoding { offset: i }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

fn parse_document(value: &Value) -> Result<PolicyDocument, PolicyError> {
    let object = value.as_object().ok_or_else(|| PolicyError::WrongType {
        element: "policy document".into(),
        expected: "an object",
    })?;
    let statements = match object.get("Statement") {
        None => {
            return Err(PolicyError::Missing {
                element: "Statement".into(),
            })
        }
        Some(Value::Object(one)) => vec![parse_statement(one, "Statement")?],
        Some(Value::Array(many)) => many
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let path = format!("Statement[{i}]");
                match s.as_object() {
                    Some(s) => parse_statement(s, &path),
                    None => Err(PolicyError::WrongType {
                        element: path,
                        expected: "an object",
                    }),
                }
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(PolicyError::WrongType {
                element: "Statement".into(),
                expected: "an object or an array of objects",
            })
        }
    };
    Ok(PolicyDocument { statements })
}

fn parse_statement(object: &Map<String, Value>, path: &str) -> Result<Statement, PolicyError> {
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(PolicyError::WrongType {
                element: format!("{path}.Sid"),
                expected: "a string",
            })
        }
    };
    // IAM's Effect is case-sensitive ("The Effect value is case sensitive", IAM User Guide,
    // "IAM JSON policy elements: Effect"); IAM refuses any other value, so a document with
    // one is not a document IAM would evaluate and is reported unreadable.
    let effect = match object.get("Effect") {
        None => {
            return Err(PolicyError::Missing {
                element: format!("{path}.Effect"),
            })
        }
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(PolicyError::BadEffect {
                element: format!("{path}.Effect"),
                value: s.clone(),
            })
        }
        Some(_) => {
            return Err(PolicyError::WrongType {
                element: format!("{path}.Effect"),
                expected: "a string",
            })
        }
    };
    let action = parse_matcher(object, path, "Action", "NotAction")?;
    let resource = parse_matcher(object, path, "Resource", "NotResource")?;
    let conditional = match object.get("Condition") {
        None => false,
        Some(Value::Object(_)) => true,
        Some(_) => {
            return Err(PolicyError::WrongType {
                element: format!("{path}.Condition"),
                expected: "an object",
            })
        }
    };
    Ok(Statement {
        sid,
        effect,
        action,
        resource,
        conditional,
    })
}

/// Reads exactly one of `listed`/`negated`, each a string or an array of strings.
fn parse_matcher(
    object: &Map<String, Value>,
    path: &str,
    listed: &'static str,
    negated: &'static str,
) -> Result<Matcher, PolicyError> {
    match (object.get(listed), object.get(negated)) {
        (Some(_), Some(_)) => Err(PolicyError::Both {
            statement: path.into(),
            first: listed,
            second: negated,
        }),
        (Some(v), None) => Ok(Matcher::Listed(strings(v, &format!("{path}.{listed}"))?)),
        (None, Some(v)) => Ok(Matcher::AllBut(strings(v, &format!("{path}.{negated}"))?)),
        (None, None) => Err(PolicyError::Missing {
            element: format!("{path}.{listed} or {negated}"),
        }),
    }
}

fn strings(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(PolicyError::WrongType {
                    element: format!("{path}[{i}]"),
                    expected: "a string",
                }),
            })
            .collect(),
        _ => Err(PolicyError::WrongType {
            element: path.into(),
            expected: "a string or an array of strings",
        }),
    }
}

/// Whether an `Action` element covers every IAM action: it is all `*`, or `service:action`
/// with the action part all `*` and the service part, as an IAM glob (`*` any run, `?` one
/// character, ASCII case-insensitive), matching `iam`. `*`, `*:*`, `iam:*`, `IAM:*`, `i*:*`
/// do; `iam:Get*`, `s3:*`, `iam:CreateUser` and the empty string do not.
///
/// Source: IAM User Guide, "IAM JSON policy elements: Action" (service prefixes and action
/// names are case-insensitive; wildcards `*` and `?`).
pub fn covers_every_iam_action(element: &str) -> bool {
    if is_all_stars(element) {
        return true;
    }
    match element.split_once(':') {
        Some((service, action)) => is_all_stars(action) && glob_matches(service, "iam"),
        None => false,
    }
}

/// A non-empty run of `*`.
fn is_all_stars(element: &str) -> bool {
    !element.is_empty() && element.bytes().all(|b| b == b'*')
}

/// Matches `text` (ASCII) against `pattern` with `*` (any run) and `?` (one character),
/// ASCII case-insensitive. Greedy with one backtrack point: O(pattern × text).
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Position after the last `*` in the pattern, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((after, tried)) => {
                    pi = after;
                    ti = tried + 1;
                    star = Some((after, tried + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Judges an AWS-managed policy by its ARN: `Some(true)` for
/// `arn:<partition>:iam::aws:policy/AdministratorAccess` and
/// `arn:<partition>:iam::aws:policy/IAMFullAccess` (any partition: `aws`, `aws-cn`,
/// `aws-us-gov`, …), `Some(false)` for every other AWS-managed ARN
/// (`arn:<partition>:iam::aws:policy/<path/>name`, e.g. `…/job-function/ViewOnlyAccess`),
/// and `None` for anything else, such as a customer-managed policy's ARN (its document must
/// be read).
///
/// AWS-managed documents are public and versioned by AWS, and GetAccountAuthorizationDetails
/// returns them only with `Filter=AWSManagedPolicy` (a large read): the two names that allow
/// everything, or all of IAM, are known instead.
///
/// Source: IAM User Guide, "AWS managed policies" and "AWS managed policies for job
/// functions"; "IAM identifiers" (policy ARNs).
pub fn aws_managed_grants_admin(arn: &str) -> Option<bool> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    // Every partition is `aws` or `aws-…` (aws-cn, aws-us-gov, aws-iso, aws-iso-b, …).
    let partition_ok = (partition == "aws" || partition.starts_with("aws-"))
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let name = resource.strip_prefix("policy/")?;
    let shape_ok = prefix == "arn"
        && partition_ok
        && service == "iam"
        && region.is_empty()
        && account == "aws"
        && !name.is_empty()
        && !name.ends_with('/')
        && !name.contains(':');
    if !shape_ok {
        return None;
    }
    // Exact names at the root path: `job-function/AdministratorAccess` is not the policy.
    Some(matches!(name, "AdministratorAccess" | "IAMFullAccess"))
}

/// What is known of one policy that applies to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyContent {
    /// Its document was read ([`decode_document`]).
    Document(PolicyDocument),
    /// An AWS-managed policy, judged by its ARN (the [`PolicySource::label`]) with
    /// [`aws_managed_grants_admin`]. If the label is not an AWS-managed ARN the policy is
    /// treated as [`PolicyContent::Unreadable`].
    AwsManaged,
    /// Its document could not be read (the call failed or [`decode_document`] refused it).
    Unreadable,
}

/// One policy that applies to the user: an inline or attached policy of the user or of one
/// of its groups, or the user's permissions boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// How the policy is named in the result: the `PolicyName` for an inline policy (of the
    /// user or of a group), the policy ARN for a managed policy (AWS- or customer-managed).
    pub label: String,
    /// What is known of it.
    pub content: PolicyContent,
}

impl PolicySource {
    /// A policy whose document was read; `label` as in [`PolicySource::label`].
    pub fn document(label: impl Into<String>, document: PolicyDocument) -> Self {
        Self {
            label: label.into(),
            content: PolicyContent::Document(document),
        }
    }

    /// An AWS-managed policy, judged by `arn`.
    pub fn aws_managed(arn: impl Into<String>) -> Self {
        Self {
            label: arn.into(),
            content: PolicyContent::AwsManaged,
        }
    }

    /// A policy whose document could not be read; `label` as in [`PolicySource::label`].
    pub fn unreadable(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            content: PolicyContent::Unreadable,
        }
    }

    /// `None` when unreadable, else (grants admin, denies admin).
    fn judge(&self) -> Option<(bool, bool)> {
        match &self.content {
            PolicyContent::Document(d) => Some((d.grants_admin(), d.denies_admin())),
            // Only documents can deny: no AWS-managed policy is judged as denying.
            PolicyContent::AwsManaged => aws_managed_grants_admin(&self.label).map(|g| (g, false)),
            PolicyContent::Unreadable => None,
        }
    }
}

/// Whether a user is an effective administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A policy grants admin, none denies it, and the boundary (if any) allows it.
    Admin,
    /// The readable policies say the user is not admin.
    NotAdmin,
    /// It depends on a policy or a boundary that could not be read.
    Unknown,
}

/// The result of [`assess`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAssessment {
    /// The verdict, by the rule of the module documentation.
    pub verdict: Verdict,
    /// Label of the first policy (in the order given) that grants admin, whatever the
    /// verdict (a deny or the boundary may still cap it); never the boundary.
    pub granted_by: Option<String>,
    /// Labels of the policies judged by ARN only, in the order given, the boundary last.
    pub judged_by_arn: Vec<String>,
    /// Labels of the policies that could not be read (including an AWS-managed label that
    /// is not an AWS-managed ARN), in the order given, the boundary last.
    pub unreadable: Vec<String>,
}

/// Judges a user from every policy that applies to it and its permissions boundary.
///
/// `policies` are all of them, assembled by the caller: the user's inline and attached
/// managed policies and those of each of its groups. `boundary` is the user's permissions
/// boundary (`PermissionsBoundary` of GetUser), if one is set. The rule is in the module
/// documentation.
///
/// Source: IAM User Guide, "Policy evaluation logic" and "Permissions boundaries for IAM
/// entities".
pub fn assess(policies: &[PolicySource], boundary: Option<&PolicySource>) -> AdminAssessment {
    let mut granted_by = None;
    let mut denied = false;
    let mut policy_unreadable = false;
    let mut judged_by_arn = Vec::new();
    let mut unreadable = Vec::new();
    let mut note = |source: &PolicySource, judged: Option<(bool, bool)>| {
        match (judged, &source.content) {
            (None, _) => unreadable.push(source.label.clone()),
            (Some(_), PolicyContent::AwsManaged) => judged_by_arn.push(source.label.clone()),
            (Some(_), _) => {}
        }
        judged
    };
    for policy in policies {
        match note(policy, policy.judge()) {
            Some((grants, denies)) => {
                if grants && granted_by.is_none() {
                    granted_by = Some(policy.label.clone());
                }
                denied |= denies;
            }
            None => policy_unreadable = true,
        }
    }
    // None: no boundary; Some(None): unreadable; Some(Some(b)): the boundary allows admin.
    let boundary_allows =
        boundary.map(|b| note(b, b.judge()).map(|(grants, denies)| grants && !denies));
    let verdict = match boundary_allows {
        _ if denied => Verdict::NotAdmin,
        // The boundary caps every policy, so unreadable ones cannot make the user admin.
        Some(Some(false)) => Verdict::NotAdmin,
        Some(None) if granted_by.is_some() => Verdict::Unknown,
        _ if granted_by.is_some() => Verdict::Admin,
        _ if policy_unreadable => Verdict::Unknown,
        _ => Verdict::NotAdmin,
    };
    AdminAssessment {
        verdict,
        granted_by,
        judged_by_arn,
        unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document from JSON text; panics in tests only.
    fn doc(json: &str) -> PolicyDocument {
        decode_document(json).unwrap()
    }

    fn allow(action: &str, resource: &str) -> PolicyDocument {
        doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{action},"Resource":{resource}}}]}}"#
        ))
    }

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn assessment(
        verdict: Verdict,
        granted_by: Option<&str>,
        judged_by_arn: &[&str],
        unreadable: &[&str],
    ) -> AdminAssessment {
        AdminAssessment {
            verdict,
            granted_by: granted_by.map(String::from),
            judged_by_arn: labels(judged_by_arn),
            unreadable: labels(unreadable),
        }
    }

    const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    const CUSTOMER_ARN: &str = "arn:aws:iam::123456789012:policy/team/deploy";

    // An inline policy as GetUserPolicy returns it (pretty-printed by the console, with
    // `*` percent-encoded).
    const ENCODED_STAR: &str = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20\
        %22Statement%22%3A%20%5B%0A%20%20%20%20%7B%0A%20%20%20%20%20%20%22Sid%22%3A%20\
        %22OpsHelper%22%2C%0A%20%20%20%20%20%20%22Effect%22%3A%20%22Allow%22%2C%0A%20%20\
        %20%20%20%20%22Action%22%3A%20%22%2A%22%2C%0A%20%20%20%20%20%20%22Resource%22%3A%20\
        %22%2A%22%0A%20%20%20%20%7D%0A%20%20%5D%0A%7D";

    #[test]
    fn inline_star_under_a_harmless_name_is_admin() {
        let p = [PolicySource::document(
            "ops-helper",
            allow(r#""*""#, r#""*""#),
        )];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::Admin, Some("ops-helper"), &[], &[])
        );
    }

    #[test]
    fn an_admin_sounding_name_allowing_one_read_is_not_admin() {
        let p = [PolicySource::document(
            "admin-notes",
            allow(r#""s3:GetObject""#, r#""arn:aws:s3:::notes/*""#),
        )];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::NotAdmin, None, &[], &[])
        );
    }

    #[test]
    fn a_groups_aws_managed_administrator_access_is_admin_in_every_partition() {
        for arn in [
            ADMIN_ARN,
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
            "arn:aws-cn:iam::aws:policy/AdministratorAccess",
        ] {
            let p = [
                PolicySource::document("s3-read", allow(r#""s3:Get*""#, r#""*""#)),
                PolicySource::aws_managed(arn),
            ];
            assert_eq!(
                assess(&p, None),
                assessment(Verdict::Admin, Some(arn), &[arn], &[]),
                "{arn}"
            );
        }
    }

    #[test]
    fn aws_managed_arns() {
        assert_eq!(aws_managed_grants_admin(ADMIN_ARN), Some(true));
        assert_eq!(
            aws_managed_grants_admin("arn:aws-iso-b:iam::aws:policy/IAMFullAccess"),
            Some(true)
        );
        for other in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/PowerUserAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            "arn:aws:iam::aws:policy/service-role/AdministratorAccess",
            "arn:aws:iam::aws:policy/administratoraccess",
            "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
        ] {
            assert_eq!(aws_managed_grants_admin(other), Some(false), "{other}");
        }
        for not_aws_managed in [
            CUSTOMER_ARN,
            "arn:aws:iam::123456789012:policy/AdministratorAccess",
            "arn:aws:iam:us-east-1:aws:policy/AdministratorAccess",
            "arn:aws:s3::aws:policy/AdministratorAccess",
            "arn::iam::aws:policy/AdministratorAccess",
            "arn:AWS:iam::aws:policy/AdministratorAccess",
            "arn:gcp:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:role/AdministratorAccess",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::aws:policy/x/",
            "arn:aws:iam::aws:policy/AdministratorAccess:1",
            "arn:aws:iam::aws",
            "AdministratorAccess",
            "",
        ] {
            assert_eq!(
                aws_managed_grants_admin(not_aws_managed),
                None,
                "{not_aws_managed}"
            );
        }
    }

    #[test]
    fn iam_star_is_admin() {
        let p = [PolicySource::document(
            "iam-ops",
            allow(r#""iam:*""#, r#""*""#),
        )];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::Admin, Some("iam-ops"), &[], &[])
        );
    }

    #[test]
    fn action_elements() {
        for yes in [
            "*", "**", "*:*", "iam:*", "IAM:*", "Iam:**", "i*:*", "?am:*", "*a*:*", "i*m:*",
        ] {
            assert!(covers_every_iam_action(yes), "{yes}");
        }
        for no in [
            "",
            "iam:Get*",
            "s3:*",
            "iam:CreateUser",
            "iam:",
            "iam",
            "iam*",
            ":*",
            "ia:*",
            "iamx:*",
            "?:*",
            "i?:*",
            "iam:*?",
            "iam:*:*",
            "sts:*",
        ] {
            assert!(!covers_every_iam_action(no), "{no}");
        }
    }

    #[test]
    fn not_action_with_allow_is_not_a_grant() {
        let d = doc(
            r#"{"Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}}"#,
        );
        assert_eq!(
            d.statements[0].action,
            Matcher::AllBut(labels(&["iam:*", "organizations:*"]))
        );
        let p = [PolicySource::document("power-user", d)];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::NotAdmin, None, &[], &[])
        );
    }

    #[test]
    fn not_resource_is_not_a_grant() {
        let d = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::audit/*"}}"#,
        );
        assert!(!d.grants_admin());
        let p = [PolicySource::document("all-but-audit", d)];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::NotAdmin, None, &[], &[])
        );
    }

    #[test]
    fn one_covering_element_in_an_action_list_is_enough() {
        let p = [PolicySource::document(
            "storage",
            allow(r#"["s3:*", "*:*"]"#, r#"["arn:aws:s3:::a", "*"]"#),
        )];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::Admin, Some("storage"), &[], &[])
        );
        // Every action, but not on every resource.
        assert!(!allow(r#""*""#, r#""arn:aws:s3:::*""#).grants_admin());
    }

    #[test]
    fn statement_as_one_object_or_an_array() {
        let one = doc(
            r#"{"Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*","Principal":"*","Unknown":1}}"#,
        );
        let many = doc(
            r#"{"Statement":[{"Sid":"All","Effect":"Allow","Action":["*"],"Resource":["*"]}]}"#,
        );
        let expected = PolicyDocument {
            statements: vec![Statement {
                sid: Some("All".into()),
                effect: Effect::Allow,
                action: Matcher::Listed(labels(&["*"])),
                resource: Matcher::Listed(labels(&["*"])),
                conditional: false,
            }],
        };
        assert_eq!(one, expected);
        assert_eq!(many, expected);
        assert_eq!(doc(r#"{"Statement":[]}"#).statements, []);
    }

    #[test]
    fn a_boundary_allowing_only_s3_caps_an_admin() {
        let p = [PolicySource::document(
            "ops-helper",
            allow(r#""*""#, r#""*""#),
        )];
        let boundary = PolicySource::document(
            "arn:aws:iam::123456789012:policy/s3-only",
            allow(r#""s3:*""#, r#""*""#),
        );
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::NotAdmin, Some("ops-helper"), &[], &[])
        );
    }

    #[test]
    fn a_boundary_allowing_everything_keeps_an_admin() {
        let p = [PolicySource::aws_managed(ADMIN_ARN)];
        let boundary = PolicySource::document(
            "arn:aws:iam::123456789012:policy/boundary",
            allow(r#""*""#, r#""*""#),
        );
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::Admin, Some(ADMIN_ARN), &[ADMIN_ARN], &[])
        );
        // AdministratorAccess as the boundary, judged by ARN.
        let p = [PolicySource::document(
            "ops-helper",
            allow(r#""*""#, r#""*""#),
        )];
        let boundary = PolicySource::aws_managed(ADMIN_ARN);
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::Admin, Some("ops-helper"), &[ADMIN_ARN], &[])
        );
    }

    #[test]
    fn a_boundary_that_denies_everything_caps_an_admin() {
        let p = [PolicySource::document(
            "ops-helper",
            allow(r#""*""#, r#""*""#),
        )];
        let boundary = PolicySource::document(
            "b",
            doc(
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            ),
        );
        assert_eq!(assess(&p, Some(&boundary)).verdict, Verdict::NotAdmin);
    }

    #[test]
    fn an_unreadable_boundary_on_an_admin_is_unknown() {
        let p = [PolicySource::document(
            "ops-helper",
            allow(r#""*""#, r#""*""#),
        )];
        let boundary = PolicySource::unreadable(CUSTOMER_ARN);
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::Unknown, Some("ops-helper"), &[], &[CUSTOMER_ARN])
        );
        // A label that is not an AWS-managed ARN cannot be judged by ARN.
        let boundary = PolicySource::aws_managed(CUSTOMER_ARN);
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::Unknown, Some("ops-helper"), &[], &[CUSTOMER_ARN])
        );
    }

    #[test]
    fn an_unreadable_boundary_without_a_grant_is_not_admin() {
        let p = [PolicySource::document(
            "admin-notes",
            allow(r#""s3:GetObject""#, r#""*""#),
        )];
        let boundary = PolicySource::unreadable(CUSTOMER_ARN);
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::NotAdmin, None, &[], &[CUSTOMER_ARN])
        );
    }

    #[test]
    fn an_unreadable_customer_policy_without_a_grant_is_unknown() {
        let p = [
            PolicySource::document("admin-notes", allow(r#""s3:GetObject""#, r#""*""#)),
            PolicySource::aws_managed("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            PolicySource::unreadable(CUSTOMER_ARN),
        ];
        assert_eq!(
            assess(&p, None),
            assessment(
                Verdict::Unknown,
                None,
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                &[CUSTOMER_ARN]
            )
        );
    }

    #[test]
    fn a_readable_limiting_boundary_settles_an_unreadable_policy() {
        let p = [PolicySource::unreadable(CUSTOMER_ARN)];
        let boundary = PolicySource::aws_managed("arn:aws:iam::aws:policy/ReadOnlyAccess");
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(
                Verdict::NotAdmin,
                None,
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                &[CUSTOMER_ARN]
            )
        );
    }

    #[test]
    fn an_unreadable_policy_beside_a_grant_is_admin() {
        let p = [
            PolicySource::unreadable(CUSTOMER_ARN),
            PolicySource::document("ops-helper", allow(r#""*""#, r#""*""#)),
            PolicySource::aws_managed("arn:aws-cn:iam::aws:policy/IAMFullAccess"),
        ];
        assert_eq!(
            assess(&p, None),
            assessment(
                Verdict::Admin,
                Some("ops-helper"),
                &["arn:aws-cn:iam::aws:policy/IAMFullAccess"],
                &[CUSTOMER_ARN]
            )
        );
    }

    #[test]
    fn an_unconditional_deny_of_everything_is_not_admin() {
        let deny = doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#);
        assert!(deny.denies_admin());
        let p = [
            PolicySource::aws_managed(ADMIN_ARN),
            PolicySource::document("deny-all", deny),
        ];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::NotAdmin, Some(ADMIN_ARN), &[ADMIN_ARN], &[])
        );
        // A deny settles it even beside an unreadable policy or boundary.
        let p = [
            PolicySource::unreadable(CUSTOMER_ARN),
            PolicySource::document(
                "deny-iam",
                doc(r#"{"Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*"}}"#),
            ),
        ];
        let boundary = PolicySource::unreadable("b");
        assert_eq!(
            assess(&p, Some(&boundary)),
            assessment(Verdict::NotAdmin, None, &[], &[CUSTOMER_ARN, "b"])
        );
    }

    #[test]
    fn a_conditional_deny_keeps_an_admin() {
        let p = [
            PolicySource::document("ops-helper", allow(r#""*""#, r#""*""#)),
            PolicySource::document(
                "deny-without-mfa",
                doc(
                    r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}"#,
                ),
            ),
            // Deny of less than everything, or on less than every resource.
            PolicySource::document(
                "deny-s3",
                doc(r#"{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#),
            ),
            PolicySource::document(
                "deny-some",
                doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::x"}}"#),
            ),
            PolicySource::document(
                "deny-not",
                doc(r#"{"Statement":{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}}"#),
            ),
        ];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::Admin, Some("ops-helper"), &[], &[])
        );
    }

    #[test]
    fn a_conditional_grant_is_admin() {
        let d = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}"#,
        );
        assert!(d.statements[0].conditional);
        let p = [PolicySource::document("office-only", d)];
        assert_eq!(
            assess(&p, None),
            assessment(Verdict::Admin, Some("office-only"), &[], &[])
        );
    }

    #[test]
    fn the_first_granting_policy_is_named() {
        let p = [
            PolicySource::document("reader", allow(r#""s3:Get*""#, r#""*""#)),
            PolicySource::document("second", allow(r#""iam:*""#, r#""*""#)),
            PolicySource::document("third", allow(r#""*""#, r#""*""#)),
        ];
        assert_eq!(assess(&p, None).granted_by.as_deref(), Some("second"));
        assert_eq!(
            assess(&[], None),
            assessment(Verdict::NotAdmin, None, &[], &[])
        );
    }

    #[test]
    fn url_encoded_documents() {
        let d = decode_document(ENCODED_STAR).unwrap();
        assert_eq!(d.statements[0].sid.as_deref(), Some("OpsHelper"));
        assert!(d.grants_admin());
        // `*` unencoded, as IAM also sends it.
        let d = decode_document(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22iam%3A*%22%2C%22Resource%22%3A%22*%22%7D%7D",
        )
        .unwrap();
        assert!(d.grants_admin());
        // `+` is a literal `+` (RFC 3986), not a space; `%2F` and `%26` decode.
        let d = decode_document(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Sid%22%3A%22svc+deploy%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22s3%3AGetObject%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ar%26d-bucket%2F%2A%22%7D%7D",
        )
        .unwrap();
        assert_eq!(d.statements[0].sid.as_deref(), Some("svc+deploy"));
        assert_eq!(
            d.statements[0].resource,
            Matcher::Listed(labels(&["arn:aws:s3:::r&d-bucket/*"]))
        );
        // Lower-case hex digits too.
        assert_eq!(
            decode_document("%7b%22Statement%22%3a%5b%5d%7d")
                .unwrap()
                .statements,
            []
        );
    }

    #[test]
    fn plain_json_is_read_without_decoding() {
        // A `%` in plain JSON is kept as is.
        let d = decode_document(
            "\n  {\"Statement\":{\"Sid\":\"100%25\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}  ",
        )
        .unwrap();
        assert_eq!(d.statements[0].sid.as_deref(), Some("100%25"));
    }

    #[test]
    fn malformed_encodings() {
        assert_eq!(
            decode_document("%7B%zz%7D"),
            Err(PolicyError::BadPercentEncoding { offset: 3 })
        );
        assert_eq!(
            decode_document("%7B%22%7"),
            Err(PolicyError::BadPercentEncoding { offset: 6 })
        );
        assert_eq!(
            decode_document("%7B%"),
            Err(PolicyError::BadPercentEncoding { offset: 3 })
        );
        assert_eq!(
            decode_document("%7B%22%C3%28%22%7D"),
            Err(PolicyError::NotUtf8 { offset: 2 })
        );
        let big = "%20".repeat(2 * 1024 * 1024 / 3 + 1);
        assert_eq!(
            decode_document(&big),
            Err(PolicyError::TooLarge {
                bytes: big.len(),
                limit: MAX_DOCUMENT_BYTES
            })
        );
        let big = format!("{{\"Statement\":[]{}}}", " ".repeat(2 * 1024 * 1024));
        assert!(matches!(
            decode_document(&big),
            Err(PolicyError::TooLarge { bytes, limit: MAX_DOCUMENT_BYTES }) if bytes == big.len()
        ));
    }

    #[test]
    fn every_prefix_of_a_document_is_an_answer_not_a_panic() {
        let plain =
            r#"{"Statement":[{"Sid":"é","Effect":"Allow","Action":["iam:*"],"Resource":"*"}]}"#;
        for text in [ENCODED_STAR, plain] {
            let ok = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .filter(|&i| decode_document(&text[..i]).is_ok())
                .count();
            assert_eq!(ok, 1, "only the whole document parses");
        }
    }

    #[test]
    fn malformed_json() {
        // Truncated, encoded and plain.
        let truncated = &ENCODED_STAR[..ENCODED_STAR.len() - 12];
        assert!(matches!(
            decode_document(truncated),
            Err(PolicyError::NotJson(_))
        ));
        assert!(matches!(
            decode_document(r#"{"Statement":[{"Effect":"Allow""#),
            Err(PolicyError::NotJson(_))
        ));
        assert!(matches!(decode_document(""), Err(PolicyError::NotJson(_))));
        assert_eq!(
            decode_document("%5B%5D"),
            Err(PolicyError::WrongType {
                element: "policy document".into(),
                expected: "an object"
            })
        );
        assert_eq!(
            decode_document(r#"{"Version":"2012-10-17"}"#),
            Err(PolicyError::Missing {
                element: "Statement".into()
            })
        );
        assert_eq!(
            decode_document(r#"{"Statement":42}"#),
            Err(PolicyError::WrongType {
                element: "Statement".into(),
                expected: "an object or an array of objects"
            })
        );
        assert_eq!(
            decode_document(
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},"x"]}"#
            ),
            Err(PolicyError::WrongType {
                element: "Statement[1]".into(),
                expected: "an object"
            })
        );
    }

    #[test]
    fn malformed_statements() {
        let cases: [(&str, PolicyError); 10] = [
            (
                r#"{"Statement":{"Action":"*","Resource":"*"}}"#,
                PolicyError::Missing {
                    element: "Statement.Effect".into(),
                },
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
                PolicyError::Missing {
                    element: "Statement[0].Action or NotAction".into(),
                },
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
                PolicyError::Missing {
                    element: "Statement[0].Resource or NotResource".into(),
                },
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}"#,
                PolicyError::Both {
                    statement: "Statement[0]".into(),
                    first: "Action",
                    second: "NotAction",
                },
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}}"#,
                PolicyError::Both {
                    statement: "Statement".into(),
                    first: "Resource",
                    second: "NotResource",
                },
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":["s3:*",7],"Resource":"*"}]}"#,
                PolicyError::WrongType {
                    element: "Statement[0].Action[1]".into(),
                    expected: "a string",
                },
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":{"x":1}}]}"#,
                PolicyError::WrongType {
                    element: "Statement[0].Resource".into(),
                    expected: "a string or an array of strings",
                },
            ),
            (
                r#"{"Statement":[{"Effect":true,"Action":"*","Resource":"*"}]}"#,
                PolicyError::WrongType {
                    element: "Statement[0].Effect".into(),
                    expected: "a string",
                },
            ),
            (
                r#"{"Statement":[{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                PolicyError::WrongType {
                    element: "Statement[0].Sid".into(),
                    expected: "a string",
                },
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}]}"#,
                PolicyError::WrongType {
                    element: "Statement[0].Condition".into(),
                    expected: "an object",
                },
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(decode_document(json), Err(expected), "{json}");
        }
    }

    #[test]
    fn effect_is_case_sensitive() {
        // IAM User Guide: "The Effect value is case sensitive."
        for value in ["allow", "ALLOW", "deny", " Allow"] {
            let json =
                format!(r#"{{"Statement":[{{"Effect":"{value}","Action":"*","Resource":"*"}}]}}"#);
            assert_eq!(
                decode_document(&json),
                Err(PolicyError::BadEffect {
                    element: "Statement[0].Effect".into(),
                    value: value.into()
                }),
                "{value}"
            );
        }
        assert_eq!(
            PolicyError::BadEffect {
                element: "Statement[0].Effect".into(),
                value: "allow".into()
            }
            .to_string(),
            r#"Statement[0].Effect is "allow", not "Allow" or "Deny""#
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            PolicyError::TooLarge {
                bytes: 2_097_152,
                limit: MAX_DOCUMENT_BYTES
            }
            .to_string(),
            "policy document is 2097152 bytes, more than the 1048576-byte limit"
        );
        assert_eq!(
            PolicyError::BadPercentEncoding { offset: 3 }.to_string(),
            "policy document has a bad percent-encoding at byte 3"
        );
        assert_eq!(
            PolicyError::Missing {
                element: "Statement".into()
            }
            .to_string(),
            "policy document has no Statement"
        );
        assert_eq!(
            PolicyError::WrongType {
                element: "Statement".into(),
                expected: "an object or an array of objects"
            }
            .to_string(),
            "Statement must be an object or an array of objects"
        );
        assert_eq!(
            PolicyError::Both {
                statement: "Statement[0]".into(),
                first: "Action",
                second: "NotAction"
            }
            .to_string(),
            "Statement[0] has both Action and NotAction"
        );
    }

    #[test]
    fn glob() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("", ""));
        assert!(!glob_matches("", "iam"));
        assert!(glob_matches("***", "iam"));
        assert!(glob_matches("*m", "iam"));
        assert!(glob_matches("*a*m*", "iam"));
        assert!(!glob_matches("*a*x*", "iam"));
        assert!(!glob_matches("??", "iam"));
        assert!(glob_matches("???", "iam"));
        assert!(!glob_matches("é*", "iam"));
    }
}
