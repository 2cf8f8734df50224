//! A user's risk: OCSF 1.6.0 `user.risk_level_id` / `risk_level` / `risk_score` from a fixed
//! rule table, each rule tied to a CIS AWS Foundations Benchmark control, with the rules that
//! fired (for `unmapped.risk_reasons[]`) and those that could not be evaluated.
//!
//! Pure: [`assess`] reads a [`Facts`] gathered elsewhere, with the clock injected as
//! [`Facts::now_ms`]; it calls nothing and does not panic on any input.
//!
//! # Rules
//!
//! | id | CIS | level | fires when |
//! |---|---|---|---|
//! | `USER.1` | 1.10 | High | A console password and no MFA device. |
//! | `USER.2` | 1.10, 1.16 | Critical | An effective administrator and no MFA device, with or without a console password. |
//! | `USER.3` | 1.12 | Medium | An active access key unused for 45 days or more, or never used and created 45 days ago or more; one reason per key. |
//! | `USER.4` | 1.12 | Medium | A console password unused for 45 days or more, or never used and set 45 days ago or more. |
//! | `USER.5` | 1.14 | Medium | An active access key created more than 90 days ago; one reason per key. |
//! | `USER.6` | 1.13 | Low | Two active access keys. |
//! | `USER.7` | 1.15 | Low | Policies attached to the user itself (inline or managed), not through groups. |
//! | `ROOT.1` | 1.4 | Critical | The root user has an active access key. |
//! | `ROOT.2` | 1.5 | Critical | The root user has no MFA device. |
//! | `ROOT.3` | 1.7 | High | The root user signed in or used an access key less than 7 days ago. |
//!
//! [`RULES`] is this table as data (a test checks the two agree). Ids are stable; they are not
//! `IAM.n` because AWS Security Hub already names its own, different, controls `IAM.1`…
//! (its `IAM.4` is the root access key), and both can reach the same SOC.
//!
//! - **CIS numbering**: CIS AWS Foundations Benchmark v3.0.0, section 1. v4.0.0 gives these
//!   controls the same numbers (1.4, 1.5, 1.6, 1.7, 1.10, 1.12–1.16; some titles reworded), checked
//!   against both versions' control lists as transcribed by `turbot/steampipe-mod-aws-compliance`
//!   (`cis_v300/section_1.pp`, `cis_v400/section_1.pp`), not against CIS's own PDFs. v5.0.0
//!   drops 1.3 and renumbers everything after it down by one (1.10 becomes 1.9, …).
//! - **`USER.2`** has no single CIS control: it joins 1.10 (MFA) with 1.16 (full
//!   administrative privileges). It does not need a console password: an administrator
//!   with access keys and no MFA device is one leaked key away from full control of the
//!   account. An administrator with a console password and no MFA gets both `USER.1` and
//!   `USER.2`.
//! - **`USER.4`** follows the CIS 1.12 audit: a password that was used counts from its last
//!   use, one never used counts from when it was set.
//! - **`ROOT.1`** counts active keys only (the CIS remediation deletes active keys; an
//!   inactive one cannot sign). **CIS 1.6** (hardware MFA for root) is not evaluated: the
//!   facts do not say which kind of device is enabled.
//! - **`ROOT.3`**: CIS 1.7 names no window; 7 days ([`ROOT_RECENT_USE_DAYS`]) is ours. Any use
//!   counts: the password, or any access key, active or not.
//! - **The root user** is evaluated by the `ROOT.*` rules only, and an IAM user by the
//!   `USER.*` rules only. None of `USER.1`–`USER.7` applies to root: MFA is `ROOT.2`
//!   (`USER.1`, `USER.2`); any active root key already fires `ROOT.1`, which CIS wants
//!   deleted, not rotated or paired (`USER.3`, `USER.5`, `USER.6`); CIS wants root unused,
//!   so an idle root password is no risk (`USER.4`); and no policy can be attached to root
//!   (`USER.7`). Rules that do not apply are neither evaluated nor listed as not evaluated.
//!
//! # Unknown facts
//!
//! `None` / [`LastUsed::Unknown`] means the call that tells failed; unknown never counts as
//! false. A rule is decided whenever the known facts settle it (no console password clears
//! `USER.1` even when MFA is unknown; a key younger than 45 days clears `USER.3` even when
//! its last use is unknown), and is otherwise listed in [`RiskAssessment::not_evaluated`].
//! A per-key rule is listed there when any one key could not be decided, even if it fired
//! for another key.
//!
//! A user's creation time bounds its credentials' ages (a key or password cannot predate its
//! user): when a key's or password's own date is unknown but the user is younger than the
//! threshold, the rule is decided as not firing. It never makes a rule fire.
//!
//! # Time
//!
//! All times are ms since the Unix epoch. A day is [`DAY_MS`] (86,400,000 ms); ages are
//! `now_ms − t` with saturating arithmetic. "45 days or more" fires at exactly
//! 45 × 86,400,000 ms; "more than 90 days" does not fire at exactly 90 days. A timestamp
//! after `now_ms` (clock skew) never fires a rule: for `USER.3`–`USER.5` it means the
//! credential is new or in use, so the rule is cleared; for `ROOT.3`, where it would most
//! likely mean "just used", it leaves the rule not evaluated. Days in the texts are whole
//! days, rounded down.
//!
//! # Level and score
//!
//! - `risk_level` is the highest level among the reasons; Info when no rule fired, also when
//!   some could not be evaluated (then [`RiskAssessment::not_evaluated`] says which).
//! - `risk_score` is the sum over the reasons (one per fired rule, one per key for the
//!   per-key rules) of [`RiskLevel::weight`] (Info 0, Low 10, Medium 25, High 50,
//!   Critical 80), capped at [`MAX_SCORE`] (100).

/// One day, in ms.
pub const DAY_MS: i64 = 86_400_000;
/// CIS 1.12: a credential unused for this many days or more should be disabled.
pub const UNUSED_CREDENTIAL_DAYS: i64 = 45;
/// [`UNUSED_CREDENTIAL_DAYS`] in ms.
pub const UNUSED_CREDENTIAL_MS: i64 = UNUSED_CREDENTIAL_DAYS * DAY_MS;
/// CIS 1.14: access keys are rotated every this many days or less.
pub const KEY_ROTATION_DAYS: i64 = 90;
/// [`KEY_ROTATION_DAYS`] in ms.
pub const KEY_ROTATION_MS: i64 = KEY_ROTATION_DAYS * DAY_MS;
/// `ROOT.3`: a use of the root user less than this many days ago is recent (CIS 1.7 names
/// no window).
pub const ROOT_RECENT_USE_DAYS: i64 = 7;
/// [`ROOT_RECENT_USE_DAYS`] in ms.
pub const ROOT_RECENT_USE_MS: i64 = ROOT_RECENT_USE_DAYS * DAY_MS;
/// Cap of `risk_score`.
pub const MAX_SCORE: u32 = 100;

/// An OCSF 1.6.0 risk level (the `risk_level_id` enum without 99 Other, which is never
/// produced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskLevel {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    /// `risk_level_id`: 0 Info, 1 Low, 2 Medium, 3 High, 4 Critical.
    pub const fn id(self) -> u32 {
        match self {
            Self::Info => 0,
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
            Self::Critical => 4,
        }
    }

    /// `risk_level`: the caption of [`Self::id`], spelled as OCSF 1.6.0 does.
    pub const fn caption(self) -> &'static str {
        match self {
            Self::Info => "Info",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    /// What one reason of this level adds to `risk_score`: 0, 10, 25, 50, 80.
    pub const fn weight(self) -> u32 {
        match self {
            Self::Info => 0,
            Self::Low => 10,
            Self::Medium => 25,
            Self::High => 50,
            Self::Critical => 80,
        }
    }
}

/// When a credential was last used, with "never" and "unknown" kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastUsed {
    /// The call that tells failed (or the answer was unreadable).
    Unknown,
    /// Known never to have been used.
    Never,
    /// Last used at this time, ms since the Unix epoch.
    At(i64),
}

/// One access key of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyFacts {
    /// `AccessKeyId` (`AKIA…`). For the root user, whose keys the credential report does not
    /// name, any stable label (e.g. `access_key_1`). Reasons list keys in this order.
    pub id: String,
    /// `Status` is `Active`.
    pub active: bool,
    /// `CreateDate` (for root, the report's `access_key_N_last_rotated`); `None` if unknown.
    pub created_ms: Option<i64>,
    /// GetAccessKeyLastUsed / the credential report's `access_key_N_last_used_date`.
    pub last_used: LastUsed,
}

/// What [`assess`] reads about one user. `None` means unknown: the call that tells failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Collection time, ms since the Unix epoch (the host clock).
    pub now_ms: i64,
    /// The account's root user (`<root_account>` in the credential report): the `ROOT.*`
    /// rules apply instead of the `USER.*` ones.
    pub is_root: bool,
    /// The user has a console password (GetLoginProfile, or the report's `password_enabled`).
    pub console_password: Option<bool>,
    /// When the console password was last used to sign in (`PasswordLastUsed`).
    pub password_last_used: LastUsed,
    /// When the console password was set (the report's `password_last_changed`, or the
    /// login profile's `CreateDate`), ms since the Unix epoch.
    pub password_last_changed_ms: Option<i64>,
    /// The user's `CreateDate`, ms since the Unix epoch.
    pub user_created_ms: Option<i64>,
    /// An MFA device is enabled.
    pub has_mfa: Option<bool>,
    /// The user is an effective administrator (decided elsewhere).
    pub is_admin: Option<bool>,
    /// The user's access keys, active or not (ListAccessKeys); `None` if unknown.
    pub access_keys: Option<Vec<AccessKeyFacts>>,
    /// Number of policies attached to the user itself, not through groups: inline
    /// (ListUserPolicies) plus managed (ListAttachedUserPolicies); `None` if either is unknown.
    pub direct_policies: Option<u32>,
}

/// Which users a rule is evaluated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// IAM users (not root).
    User,
    /// The account's root user only.
    Root,
}

/// One rule of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id, e.g. `USER.3`.
    pub id: &'static str,
    /// CIS AWS Foundations Benchmark v3.0.0 (= v4.0.0) control(s), e.g. `1.12` or `1.10, 1.16`.
    pub cis: &'static str,
    /// Level of each reason the rule gives.
    pub level: RiskLevel,
    /// Which users it is evaluated for.
    pub scope: Scope,
    /// When it fires, one sentence (the module docs' table, checked by a test).
    #[cfg_attr(not(test), allow(dead_code))]
    pub description: &'static str,
    /// One verdict per subject: one for the user, or one per key for the per-key rules.
    eval: fn(&Facts) -> Vec<Verdict>,
}

/// The rule table, in the order reasons and `not_evaluated` are listed.
pub const RULES: [Rule; 10] = [
    Rule {
        id: "USER.1",
        cis: "1.10",
        level: RiskLevel::High,
        scope: Scope::User,
        description: "A console password and no MFA device.",
        eval: console_without_mfa,
    },
    Rule {
        id: "USER.2",
        cis: "1.10, 1.16",
        level: RiskLevel::Critical,
        scope: Scope::User,
        description: "An effective administrator and no MFA device, with or without a console password.",
        eval: admin_without_mfa,
    },
    Rule {
        id: "USER.3",
        cis: "1.12",
        level: RiskLevel::Medium,
        scope: Scope::User,
        description: "An active access key unused for 45 days or more, or never used and created 45 days ago or more; one reason per key.",
        eval: unused_access_keys,
    },
    Rule {
        id: "USER.4",
        cis: "1.12",
        level: RiskLevel::Medium,
        scope: Scope::User,
        description: "A console password unused for 45 days or more, or never used and set 45 days ago or more.",
        eval: unused_console_password,
    },
    Rule {
        id: "USER.5",
        cis: "1.14",
        level: RiskLevel::Medium,
        scope: Scope::User,
        description: "An active access key created more than 90 days ago; one reason per key.",
        eval: unrotated_access_keys,
    },
    Rule {
        id: "USER.6",
        cis: "1.13",
        level: RiskLevel::Low,
        scope: Scope::User,
        description: "Two active access keys.",
        eval: two_active_keys,
    },
    Rule {
        id: "USER.7",
        cis: "1.15",
        level: RiskLevel::Low,
        scope: Scope::User,
        description: "Policies attached to the user itself (inline or managed), not through groups.",
        eval: direct_policies,
    },
    Rule {
        id: "ROOT.1",
        cis: "1.4",
        level: RiskLevel::Critical,
        scope: Scope::Root,
        description: "The root user has an active access key.",
        eval: root_access_keys,
    },
    Rule {
        id: "ROOT.2",
        cis: "1.5",
        level: RiskLevel::Critical,
        scope: Scope::Root,
        description: "The root user has no MFA device.",
        eval: root_without_mfa,
    },
    Rule {
        id: "ROOT.3",
        cis: "1.7",
        level: RiskLevel::High,
        scope: Scope::Root,
        description: "The root user signed in or used an access key less than 7 days ago.",
        eval: root_recent_use,
    },
];

/// A rule that fired (`unmapped.risk_reasons[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskReason {
    /// [`Rule::id`].
    pub rule: &'static str,
    /// [`Rule::cis`].
    pub cis: &'static str,
    /// [`Rule::level`].
    pub level: RiskLevel,
    /// What fired, with the concrete value, ending in the CIS control, e.g.
    /// `active access key AKIA… unused for 120 days (CIS 1.12)`.
    pub text: String,
}

/// The outcome of [`assess`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAssessment {
    /// `risk_level_id` / `risk_level`: the highest reason's level; Info when none.
    pub level: RiskLevel,
    /// `risk_score`, 0–[`MAX_SCORE`].
    pub score: u32,
    /// Fired rules in [`RULES`] order; per-key rules once per key, in key id order.
    pub reasons: Vec<RiskReason>,
    /// Ids of the applicable rules the known facts could not settle, in [`RULES`] order.
    pub not_evaluated: Vec<&'static str>,
}

/// Evaluates the rules of [`RULES`] that apply to this user (see the module docs).
pub fn assess(facts: &Facts) -> RiskAssessment {
    let scope = if facts.is_root {
        Scope::Root
    } else {
        Scope::User
    };
    let mut reasons = Vec::new();
    let mut not_evaluated = Vec::new();
    for rule in RULES.iter().filter(|rule| rule.scope == scope) {
        let mut undecided = false;
        for verdict in (rule.eval)(facts) {
            match verdict {
                Verdict::Fires(text) => reasons.push(RiskReason {
                    rule: rule.id,
                    cis: rule.cis,
                    level: rule.level,
                    text: format!("{text} (CIS {})", rule.cis),
                }),
                Verdict::Clear => {}
                Verdict::Unknown => undecided = true,
            }
        }
        if undecided {
            not_evaluated.push(rule.id);
        }
    }
    let level = reasons
        .iter()
        .map(|reason| reason.level)
        .max()
        .unwrap_or(RiskLevel::Info);
    let score = reasons
        .iter()
        .fold(0u32, |sum, reason| {
            sum.saturating_add(reason.level.weight())
        })
        .min(MAX_SCORE);
    RiskAssessment {
        level,
        score,
        reasons,
        not_evaluated,
    }
}

/// What a rule concluded about one subject (the user, or one key).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Fired; the text without its CIS suffix.
    Fires(String),
    /// Settled: does not fire.
    Clear,
    /// The known facts do not settle it.
    Unknown,
}

/// `Fires(text)` if `cond` is true, `Clear` if false, `Unknown` if unknown.
fn when(cond: Option<bool>, text: impl FnOnce() -> String) -> Verdict {
    match cond {
        Some(true) => Verdict::Fires(text()),
        Some(false) => Verdict::Clear,
        None => Verdict::Unknown,
    }
}

/// Three-valued "and": a known false or a settled `Clear` on either side clears.
fn and(cond: Option<bool>, verdict: Verdict) -> Verdict {
    match (cond, verdict) {
        (Some(false), _) | (_, Verdict::Clear) => Verdict::Clear,
        (Some(true), verdict) => verdict,
        (None, _) => Verdict::Unknown,
    }
}

/// ms from `then_ms` to `now_ms`; negative when `then_ms` is in the future.
fn elapsed(now_ms: i64, then_ms: i64) -> i64 {
    now_ms.saturating_sub(then_ms)
}

/// Whole days in `ms` (`ms` ≥ 0), rounded down.
fn days(ms: i64) -> i64 {
    ms / DAY_MS
}

/// The upper bound of a credential's age: from its own date when known, else from its
/// user's creation (a credential cannot predate its user); `None` when neither is known.
fn max_age(now_ms: i64, issued_ms: Option<i64>, user_created_ms: Option<i64>) -> Option<i64> {
    issued_ms
        .or(user_created_ms)
        .map(|then| elapsed(now_ms, then))
}

/// CIS 1.12 for one credential: `subject` (e.g. `console password`) last used at
/// `last_used`, issued (`verb`: created, set) at `issued_ms`.
fn idle(
    facts: &Facts,
    subject: &str,
    verb: &str,
    last_used: LastUsed,
    issued_ms: Option<i64>,
) -> Verdict {
    let now = facts.now_ms;
    // Younger than the threshold: it cannot have been idle that long, whatever its last use.
    let young = max_age(now, issued_ms, facts.user_created_ms)
        .is_some_and(|age| age < UNUSED_CREDENTIAL_MS);
    match (last_used, issued_ms) {
        (LastUsed::At(at), _) => {
            let idle = elapsed(now, at);
            if idle >= UNUSED_CREDENTIAL_MS {
                Verdict::Fires(format!("{subject} unused for {} days", days(idle)))
            } else {
                Verdict::Clear
            }
        }
        (LastUsed::Never, Some(issued)) => {
            let age = elapsed(now, issued);
            if age >= UNUSED_CREDENTIAL_MS {
                Verdict::Fires(format!(
                    "{subject} never used, {verb} {} days ago",
                    days(age)
                ))
            } else {
                Verdict::Clear
            }
        }
        (LastUsed::Never, None) | (LastUsed::Unknown, _) if young => Verdict::Clear,
        (LastUsed::Never, None) | (LastUsed::Unknown, _) => Verdict::Unknown,
    }
}

/// The user's active keys in id order; `None` when the keys are unknown.
fn active_keys(facts: &Facts) -> Option<Vec<&AccessKeyFacts>> {
    facts.access_keys.as_ref().map(|keys| {
        let mut active: Vec<&AccessKeyFacts> = keys.iter().filter(|key| key.active).collect();
        active.sort_by(|a, b| a.id.cmp(&b.id));
        active
    })
}

fn console_without_mfa(facts: &Facts) -> Vec<Verdict> {
    let no_mfa = facts.has_mfa.map(|mfa| !mfa);
    vec![and(
        facts.console_password,
        when(no_mfa, || "console password without MFA".to_owned()),
    )]
}

fn admin_without_mfa(facts: &Facts) -> Vec<Verdict> {
    let no_mfa = facts.has_mfa.map(|mfa| !mfa);
    vec![and(
        facts.is_admin,
        when(no_mfa, || "administrator without MFA".to_owned()),
    )]
}

fn unused_access_keys(facts: &Facts) -> Vec<Verdict> {
    match active_keys(facts) {
        None => vec![Verdict::Unknown],
        Some(keys) => keys
            .into_iter()
            .map(|key| {
                let subject = format!("active access key {}", key.id);
                idle(facts, &subject, "created", key.last_used, key.created_ms)
            })
            .collect(),
    }
}

fn unused_console_password(facts: &Facts) -> Vec<Verdict> {
    let verdict = idle(
        facts,
        "console password",
        "set",
        facts.password_last_used,
        facts.password_last_changed_ms,
    );
    vec![and(facts.console_password, verdict)]
}

fn unrotated_access_keys(facts: &Facts) -> Vec<Verdict> {
    let Some(keys) = active_keys(facts) else {
        return vec![Verdict::Unknown];
    };
    keys.into_iter()
        .map(|key| {
            match (
                key.created_ms,
                max_age(facts.now_ms, key.created_ms, facts.user_created_ms),
            ) {
                (Some(_), Some(age)) if age > KEY_ROTATION_MS => Verdict::Fires(format!(
                    "active access key {} created {} days ago, not rotated within {KEY_ROTATION_DAYS} days",
                    key.id,
                    days(age)
                )),
                // Known age within the limit, or bounded within it by the user's creation.
                (_, Some(age)) if age <= KEY_ROTATION_MS => Verdict::Clear,
                _ => Verdict::Unknown,
            }
        })
        .collect()
}

fn two_active_keys(facts: &Facts) -> Vec<Verdict> {
    let active = active_keys(facts).map(|keys| keys.len());
    vec![when(active.map(|n| n >= 2), || {
        format!("{} active access keys", active.unwrap_or_default())
    })]
}

fn direct_policies(facts: &Facts) -> Vec<Verdict> {
    let count = facts.direct_policies;
    vec![when(count.map(|n| n > 0), || match count {
        Some(1) => "1 policy attached directly to the user".to_owned(),
        _ => format!(
            "{} policies attached directly to the user",
            count.unwrap_or_default()
        ),
    })]
}

fn root_access_keys(facts: &Facts) -> Vec<Verdict> {
    let active = active_keys(facts).map(|keys| keys.len());
    vec![when(active.map(|n| n > 0), || match active {
        Some(1) => "root user has 1 active access key".to_owned(),
        _ => format!(
            "root user has {} active access keys",
            active.unwrap_or_default()
        ),
    })]
}

fn root_without_mfa(facts: &Facts) -> Vec<Verdict> {
    vec![when(facts.has_mfa.map(|mfa| !mfa), || {
        "root user without MFA".to_owned()
    })]
}

fn root_recent_use(facts: &Facts) -> Vec<Verdict> {
    let now = facts.now_ms;
    let mut undecided = false;
    // (ms since the use, what was used); the password first, then keys by id.
    let mut uses: Vec<(i64, String)> = Vec::new();
    let mut consider = |last_used: LastUsed, what: String| match last_used {
        LastUsed::At(at) => uses.push((elapsed(now, at), what)),
        LastUsed::Never => {}
        LastUsed::Unknown => undecided = true,
    };
    consider(
        facts.password_last_used,
        "root user signed in with its password".to_owned(),
    );
    match &facts.access_keys {
        None => undecided = true,
        Some(keys) => {
            let mut keys: Vec<&AccessKeyFacts> = keys.iter().collect();
            keys.sort_by(|a, b| a.id.cmp(&b.id));
            for key in keys {
                consider(key.last_used, format!("root access key {} used", key.id));
            }
        }
    }
    // The most recent use in the window; on a tie the first listed.
    let recent = uses
        .iter()
        .filter(|(since, _)| (0..ROOT_RECENT_USE_MS).contains(since))
        .min_by_key(|(since, _)| *since);
    if let Some((since, what)) = recent {
        let when = match days(*since) {
            0 => "less than a day ago".to_owned(),
            1 => "1 day ago".to_owned(),
            n => format!("{n} days ago"),
        };
        return vec![Verdict::Fires(format!("{what} {when}"))];
    }
    // A use dated in the future most likely means "just now" on a skewed clock: not a
    // clean bill, but not proof either.
    if undecided || uses.iter().any(|(since, _)| *since < 0) {
        vec![Verdict::Unknown]
    } else {
        vec![Verdict::Clear]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z.
    const NOW: i64 = 1_767_225_600_000;

    /// `days` days before [`NOW`].
    fn ago(days: i64) -> i64 {
        NOW - days * DAY_MS
    }

    fn key(id: &str, active: bool, created_ms: Option<i64>, last_used: LastUsed) -> AccessKeyFacts {
        AccessKeyFacts {
            id: id.to_owned(),
            active,
            created_ms,
            last_used,
        }
    }

    /// An IAM user every rule clears: MFA, a password used yesterday, one fresh key in use.
    fn clean() -> Facts {
        Facts {
            now_ms: NOW,
            is_root: false,
            console_password: Some(true),
            password_last_used: LastUsed::At(ago(1)),
            password_last_changed_ms: Some(ago(30)),
            user_created_ms: Some(ago(400)),
            has_mfa: Some(true),
            is_admin: Some(false),
            access_keys: Some(vec![key(
                "AKIAFRESH",
                true,
                Some(ago(10)),
                LastUsed::At(ago(1)),
            )]),
            direct_policies: Some(0),
        }
    }

    /// A root user every rule clears.
    fn clean_root() -> Facts {
        Facts {
            is_root: true,
            password_last_used: LastUsed::At(ago(30)),
            access_keys: Some(Vec::new()),
            ..clean()
        }
    }

    /// (rule, text) of each reason.
    fn reasons(a: &RiskAssessment) -> Vec<(&'static str, &str)> {
        a.reasons
            .iter()
            .map(|r| (r.rule, r.text.as_str()))
            .collect()
    }

    /// (rule, text) of each reason, and the rules not evaluated.
    fn outcome(a: &RiskAssessment) -> (Vec<(&'static str, &str)>, Vec<&'static str>) {
        (reasons(a), a.not_evaluated.clone())
    }

    fn only_keys(keys: Vec<AccessKeyFacts>) -> Facts {
        Facts {
            access_keys: Some(keys),
            ..clean()
        }
    }

    #[test]
    fn a_clean_user_is_info_with_score_zero() {
        let a = assess(&clean());
        assert_eq!(
            a,
            RiskAssessment {
                level: RiskLevel::Info,
                score: 0,
                reasons: Vec::new(),
                not_evaluated: Vec::new(),
            }
        );
        assert_eq!(assess(&clean_root()), a);
    }

    #[test]
    fn levels_are_ocsf_ids_and_captions() {
        let all = [
            RiskLevel::Info,
            RiskLevel::Low,
            RiskLevel::Medium,
            RiskLevel::High,
            RiskLevel::Critical,
        ];
        let ids: Vec<u32> = all.iter().map(|l| l.id()).collect();
        let captions: Vec<&str> = all.iter().map(|l| l.caption()).collect();
        let weights: Vec<u32> = all.iter().map(|l| l.weight()).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        assert_eq!(captions, ["Info", "Low", "Medium", "High", "Critical"]);
        assert_eq!(weights, [0, 10, 25, 50, 80]);
        assert!(RiskLevel::Critical > RiskLevel::High && RiskLevel::Low > RiskLevel::Info);
    }

    #[test]
    fn the_rule_table_is_stable_and_matches_the_module_docs() {
        let rows: Vec<(&str, &str, &str, Scope)> = RULES
            .iter()
            .map(|r| (r.id, r.cis, r.level.caption(), r.scope))
            .collect();
        assert_eq!(
            rows,
            [
                ("USER.1", "1.10", "High", Scope::User),
                ("USER.2", "1.10, 1.16", "Critical", Scope::User),
                ("USER.3", "1.12", "Medium", Scope::User),
                ("USER.4", "1.12", "Medium", Scope::User),
                ("USER.5", "1.14", "Medium", Scope::User),
                ("USER.6", "1.13", "Low", Scope::User),
                ("USER.7", "1.15", "Low", Scope::User),
                ("ROOT.1", "1.4", "Critical", Scope::Root),
                ("ROOT.2", "1.5", "Critical", Scope::Root),
                ("ROOT.3", "1.7", "High", Scope::Root),
            ]
        );
        let source = include_str!("risk.rs");
        for rule in &RULES {
            let row = format!(
                "//! | `{}` | {} | {} | {} |\n",
                rule.id,
                rule.cis,
                rule.level.caption(),
                rule.description
            );
            assert!(source.contains(&row), "module docs lack {row:?}");
        }
        assert_eq!(
            (UNUSED_CREDENTIAL_MS, KEY_ROTATION_MS, ROOT_RECENT_USE_MS),
            (3_888_000_000, 7_776_000_000, 604_800_000)
        );
    }

    #[test]
    fn console_password_without_mfa() {
        let a = assess(&Facts {
            has_mfa: Some(false),
            ..clean()
        });
        assert_eq!(
            a.reasons,
            [RiskReason {
                rule: "USER.1",
                cis: "1.10",
                level: RiskLevel::High,
                text: "console password without MFA (CIS 1.10)".into(),
            }]
        );
        assert_eq!((a.level, a.score), (RiskLevel::High, 50));
        assert!(a.not_evaluated.is_empty());

        // No console password: settled, whatever MFA is.
        for has_mfa in [Some(false), None] {
            let a = assess(&Facts {
                console_password: Some(false),
                has_mfa,
                ..clean()
            });
            assert_eq!(reasons(&a), []);
            assert!(!a.not_evaluated.contains(&"USER.1"));
        }
        // MFA: settled, whatever the password is.
        let a = assess(&Facts {
            console_password: None,
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
    }

    #[test]
    fn console_password_without_mfa_unknown() {
        for (console_password, has_mfa) in [(None, Some(false)), (Some(true), None)] {
            let a = assess(&Facts {
                console_password,
                has_mfa,
                is_admin: Some(false),
                ..clean()
            });
            assert_eq!(reasons(&a), []);
            assert_eq!(a.not_evaluated, ["USER.1"]);
            assert_eq!((a.level, a.score), (RiskLevel::Info, 0));
        }
    }

    #[test]
    fn administrator_without_mfa_needs_no_console_password() {
        let a = assess(&Facts {
            console_password: Some(false),
            has_mfa: Some(false),
            is_admin: Some(true),
            ..clean()
        });
        assert_eq!(
            a.reasons,
            [RiskReason {
                rule: "USER.2",
                cis: "1.10, 1.16",
                level: RiskLevel::Critical,
                text: "administrator without MFA (CIS 1.10, 1.16)".into(),
            }]
        );
        assert_eq!((a.level, a.score), (RiskLevel::Critical, 80));

        // With MFA, or not an administrator: settled.
        let a = assess(&Facts {
            is_admin: Some(true),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
        let a = assess(&Facts {
            console_password: Some(false),
            has_mfa: None,
            is_admin: Some(false),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));

        // Unknown administrator without MFA, or administrator with unknown MFA.
        for (is_admin, has_mfa) in [(None, Some(false)), (Some(true), None)] {
            let a = assess(&Facts {
                console_password: Some(false),
                has_mfa,
                is_admin,
                ..clean()
            });
            assert_eq!(reasons(&a), []);
            assert_eq!(a.not_evaluated, ["USER.2"]);
        }
    }

    #[test]
    fn unused_access_key_at_and_under_45_days() {
        let at = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(60)),
            LastUsed::At(ago(45)),
        )]));
        assert_eq!(
            at.reasons,
            [RiskReason {
                rule: "USER.3",
                cis: "1.12",
                level: RiskLevel::Medium,
                text: "active access key AKIA1 unused for 45 days (CIS 1.12)".into(),
            }]
        );
        assert_eq!((at.level, at.score), (RiskLevel::Medium, 25));

        let under = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(60)),
            LastUsed::At(ago(45) + 1),
        )]));
        assert_eq!(outcome(&under), (vec![], vec![]));

        let long = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(80)),
            LastUsed::At(ago(80) + 1),
        )]));
        assert_eq!(
            reasons(&long),
            [(
                "USER.3",
                "active access key AKIA1 unused for 79 days (CIS 1.12)"
            )]
        );
    }

    #[test]
    fn never_used_access_key_counts_from_its_creation() {
        let at = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(45)),
            LastUsed::Never,
        )]));
        assert_eq!(
            reasons(&at),
            [(
                "USER.3",
                "active access key AKIA1 never used, created 45 days ago (CIS 1.12)"
            )]
        );
        let under = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(45) + 1),
            LastUsed::Never,
        )]));
        assert_eq!(outcome(&under), (vec![], vec![]));
    }

    #[test]
    fn inactive_keys_are_not_checked() {
        let a = assess(&only_keys(vec![
            key("AKIAOFF1", false, Some(ago(500)), LastUsed::Never),
            key("AKIAOFF2", false, None, LastUsed::Unknown),
        ]));
        assert_eq!(outcome(&a), (vec![], vec![]));
    }

    #[test]
    fn future_timestamps_never_fire() {
        let soon = NOW + DAY_MS;
        let a = assess(&Facts {
            console_password: Some(true),
            password_last_used: LastUsed::At(soon),
            access_keys: Some(vec![
                key("AKIA1", true, Some(soon), LastUsed::Never),
                key("AKIA2", true, Some(soon), LastUsed::At(soon)),
            ]),
            ..clean()
        });
        // Only the two active keys: the future dates clear USER.3 to USER.5.
        assert_eq!(
            outcome(&a),
            (vec![("USER.6", "2 active access keys (CIS 1.13)")], vec![])
        );
        let a = assess(&Facts {
            password_last_used: LastUsed::Never,
            password_last_changed_ms: Some(soon),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
        let a = assess(&Facts {
            user_created_ms: Some(soon),
            password_last_used: LastUsed::Unknown,
            password_last_changed_ms: None,
            access_keys: Some(vec![key("AKIA1", true, None, LastUsed::Unknown)]),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
    }

    #[test]
    fn access_key_facts_unknown() {
        // The keys themselves unknown.
        let a = assess(&Facts {
            access_keys: None,
            ..clean()
        });
        assert_eq!(reasons(&a), []);
        assert_eq!(a.not_evaluated, ["USER.3", "USER.5", "USER.6"]);

        // Last use unknown, key exactly 45 days old: it may never have been used, USER.3 open;
        // its age settles USER.5.
        let a = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(45)),
            LastUsed::Unknown,
        )]));
        assert_eq!(outcome(&a), (vec![], vec!["USER.3"]));

        // Last use unknown, key younger than 45 days: it cannot have idled 45 days.
        let a = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(45) + 1),
            LastUsed::Unknown,
        )]));
        assert_eq!(outcome(&a), (vec![], vec![]));

        // Creation unknown, user younger than 45 days: both age rules settled.
        let a = assess(&Facts {
            user_created_ms: Some(ago(44)),
            access_keys: Some(vec![key("AKIA1", true, None, LastUsed::Never)]),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));

        // Creation unknown, user 90 days old: USER.5 settled, USER.3 (never used) open.
        let a = assess(&Facts {
            user_created_ms: Some(ago(90)),
            access_keys: Some(vec![key("AKIA1", true, None, LastUsed::Never)]),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec!["USER.3"]));

        // Creation and user creation unknown, key in use: only USER.5 open.
        let a = assess(&Facts {
            user_created_ms: None,
            access_keys: Some(vec![key("AKIA1", true, None, LastUsed::At(ago(1)))]),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec!["USER.5"]));

        // Creation unknown, user older than 90 days: USER.5 open; an unknown bound never fires.
        let a = assess(&Facts {
            user_created_ms: Some(ago(90) - 1),
            access_keys: Some(vec![key("AKIA1", true, None, LastUsed::At(ago(1)))]),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec!["USER.5"]));
    }

    #[test]
    fn a_per_key_rule_fires_for_one_key_and_stays_open_for_another() {
        let a = assess(&only_keys(vec![
            key("AKIAB", true, Some(ago(50)), LastUsed::Unknown),
            key("AKIAA", true, Some(ago(60)), LastUsed::At(ago(50))),
        ]));
        assert_eq!(
            reasons(&a),
            [
                (
                    "USER.3",
                    "active access key AKIAA unused for 50 days (CIS 1.12)"
                ),
                ("USER.6", "2 active access keys (CIS 1.13)"),
            ]
        );
        assert_eq!(a.not_evaluated, ["USER.3"]);
        assert_eq!((a.level, a.score), (RiskLevel::Medium, 35));
    }

    #[test]
    fn unused_console_password_at_and_under_45_days() {
        let at = assess(&Facts {
            password_last_used: LastUsed::At(ago(45)),
            ..clean()
        });
        assert_eq!(
            at.reasons,
            [RiskReason {
                rule: "USER.4",
                cis: "1.12",
                level: RiskLevel::Medium,
                text: "console password unused for 45 days (CIS 1.12)".into(),
            }]
        );
        assert_eq!((at.level, at.score), (RiskLevel::Medium, 25));
        let under = assess(&Facts {
            password_last_used: LastUsed::At(ago(45) + 1),
            ..clean()
        });
        assert_eq!(outcome(&under), (vec![], vec![]));
        // A removed password is no risk, however long ago it was used.
        let removed = assess(&Facts {
            console_password: Some(false),
            password_last_used: LastUsed::At(ago(300)),
            ..clean()
        });
        assert_eq!(outcome(&removed), (vec![], vec![]));
    }

    #[test]
    fn never_used_console_password_counts_from_when_it_was_set() {
        let at = assess(&Facts {
            password_last_used: LastUsed::Never,
            password_last_changed_ms: Some(ago(45)),
            ..clean()
        });
        assert_eq!(
            reasons(&at),
            [(
                "USER.4",
                "console password never used, set 45 days ago (CIS 1.12)"
            )]
        );
        let under = assess(&Facts {
            password_last_used: LastUsed::Never,
            password_last_changed_ms: Some(ago(45) + 1),
            ..clean()
        });
        assert_eq!(outcome(&under), (vec![], vec![]));
    }

    #[test]
    fn console_password_facts_unknown() {
        // Whether there is a password unknown, and an old last use: open.
        let a = assess(&Facts {
            console_password: None,
            password_last_used: LastUsed::At(ago(100)),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec!["USER.4"]));
        // Never used, set unknown, user old: open.
        let a = assess(&Facts {
            password_last_used: LastUsed::Never,
            password_last_changed_ms: None,
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec!["USER.4"]));
        // Never used, set unknown, user younger than 45 days: settled.
        let a = assess(&Facts {
            password_last_used: LastUsed::Never,
            password_last_changed_ms: None,
            user_created_ms: Some(ago(44)),
            access_keys: Some(Vec::new()),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
        // Last use unknown, password set 10 days ago: settled.
        let a = assess(&Facts {
            password_last_used: LastUsed::Unknown,
            password_last_changed_ms: Some(ago(10)),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
        // Last use unknown, password set 50 days ago: open.
        let a = assess(&Facts {
            password_last_used: LastUsed::Unknown,
            password_last_changed_ms: Some(ago(50)),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec!["USER.4"]));
    }

    #[test]
    fn access_key_older_than_90_days() {
        let exactly = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(90)),
            LastUsed::At(ago(1)),
        )]));
        assert_eq!(outcome(&exactly), (vec![], vec![]));
        let over = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(90) - 1),
            LastUsed::At(ago(1)),
        )]));
        assert_eq!(
            over.reasons,
            [RiskReason {
                rule: "USER.5",
                cis: "1.14",
                level: RiskLevel::Medium,
                text: "active access key AKIA1 created 90 days ago, not rotated within 90 days (CIS 1.14)".into(),
            }]
        );
        assert_eq!((over.level, over.score), (RiskLevel::Medium, 25));
        let old = assess(&only_keys(vec![key(
            "AKIA1",
            true,
            Some(ago(120)),
            LastUsed::At(ago(1)),
        )]));
        assert_eq!(
            reasons(&old),
            [(
                "USER.5",
                "active access key AKIA1 created 120 days ago, not rotated within 90 days (CIS 1.14)"
            )]
        );
        let inactive = assess(&only_keys(vec![key(
            "AKIA1",
            false,
            Some(ago(120)),
            LastUsed::At(ago(100)),
        )]));
        assert_eq!(reasons(&inactive), []);
    }

    #[test]
    fn two_active_access_keys() {
        let two = assess(&only_keys(vec![
            key("AKIA2", true, Some(ago(10)), LastUsed::At(ago(1))),
            key("AKIA1", true, Some(ago(20)), LastUsed::At(ago(2))),
        ]));
        assert_eq!(
            two.reasons,
            [RiskReason {
                rule: "USER.6",
                cis: "1.13",
                level: RiskLevel::Low,
                text: "2 active access keys (CIS 1.13)".into(),
            }]
        );
        assert_eq!((two.level, two.score), (RiskLevel::Low, 10));
        let one_active = assess(&only_keys(vec![
            key("AKIA2", true, Some(ago(10)), LastUsed::At(ago(1))),
            key("AKIA1", false, Some(ago(20)), LastUsed::At(ago(2))),
        ]));
        assert_eq!(reasons(&one_active), []);
    }

    #[test]
    fn policies_attached_directly() {
        let one = assess(&Facts {
            direct_policies: Some(1),
            ..clean()
        });
        assert_eq!(
            one.reasons,
            [RiskReason {
                rule: "USER.7",
                cis: "1.15",
                level: RiskLevel::Low,
                text: "1 policy attached directly to the user (CIS 1.15)".into(),
            }]
        );
        assert_eq!((one.level, one.score), (RiskLevel::Low, 10));
        let three = assess(&Facts {
            direct_policies: Some(3),
            ..clean()
        });
        assert_eq!(
            reasons(&three),
            [(
                "USER.7",
                "3 policies attached directly to the user (CIS 1.15)"
            )]
        );
        let unknown = assess(&Facts {
            direct_policies: None,
            ..clean()
        });
        assert_eq!(outcome(&unknown), (vec![], vec!["USER.7"]));
    }

    #[test]
    fn several_rules_sum_their_weights() {
        // Keys given out of order; reasons list them by id.
        let a = assess(&Facts {
            access_keys: Some(vec![
                key("AKIAB", true, Some(ago(200)), LastUsed::At(ago(2))),
                key("AKIAA", true, Some(ago(46)), LastUsed::Never),
            ]),
            direct_policies: Some(2),
            ..clean()
        });
        assert_eq!(
            reasons(&a),
            [
                (
                    "USER.3",
                    "active access key AKIAA never used, created 46 days ago (CIS 1.12)"
                ),
                (
                    "USER.5",
                    "active access key AKIAB created 200 days ago, not rotated within 90 days (CIS 1.14)"
                ),
                ("USER.6", "2 active access keys (CIS 1.13)"),
                ("USER.7", "2 policies attached directly to the user (CIS 1.15)"),
            ]
        );
        // 25 + 25 + 10 + 10.
        assert_eq!((a.level, a.score), (RiskLevel::Medium, 70));
        assert!(a.not_evaluated.is_empty());
    }

    #[test]
    fn every_user_rule_at_once_caps_the_score() {
        let a = assess(&Facts {
            now_ms: NOW,
            is_root: false,
            console_password: Some(true),
            password_last_used: LastUsed::At(ago(50)),
            password_last_changed_ms: Some(ago(300)),
            user_created_ms: Some(ago(400)),
            has_mfa: Some(false),
            is_admin: Some(true),
            access_keys: Some(vec![
                key("AKIAB", true, Some(ago(200)), LastUsed::At(ago(60))),
                key("AKIAA", true, Some(ago(100)), LastUsed::Never),
                key("AKIAC", false, Some(ago(300)), LastUsed::Never),
            ]),
            direct_policies: Some(2),
        });
        assert_eq!(
            reasons(&a),
            [
                ("USER.1", "console password without MFA (CIS 1.10)"),
                ("USER.2", "administrator without MFA (CIS 1.10, 1.16)"),
                (
                    "USER.3",
                    "active access key AKIAA never used, created 100 days ago (CIS 1.12)"
                ),
                (
                    "USER.3",
                    "active access key AKIAB unused for 60 days (CIS 1.12)"
                ),
                ("USER.4", "console password unused for 50 days (CIS 1.12)"),
                (
                    "USER.5",
                    "active access key AKIAA created 100 days ago, not rotated within 90 days (CIS 1.14)"
                ),
                (
                    "USER.5",
                    "active access key AKIAB created 200 days ago, not rotated within 90 days (CIS 1.14)"
                ),
                ("USER.6", "2 active access keys (CIS 1.13)"),
                ("USER.7", "2 policies attached directly to the user (CIS 1.15)"),
            ]
        );
        let levels: Vec<RiskLevel> = a.reasons.iter().map(|r| r.level).collect();
        use RiskLevel::{Critical, High, Low, Medium};
        assert_eq!(
            levels,
            [High, Critical, Medium, Medium, Medium, Medium, Medium, Low, Low]
        );
        // 50 + 80 + 5 × 25 + 2 × 10 = 275, capped.
        assert_eq!((a.level, a.score), (RiskLevel::Critical, 100));
        assert!(a.not_evaluated.is_empty());
    }

    #[test]
    fn nothing_known_is_info_with_every_rule_not_evaluated() {
        let unknown = Facts {
            now_ms: NOW,
            is_root: false,
            console_password: None,
            password_last_used: LastUsed::Unknown,
            password_last_changed_ms: None,
            user_created_ms: None,
            has_mfa: None,
            is_admin: None,
            access_keys: None,
            direct_policies: None,
        };
        let a = assess(&unknown);
        assert_eq!(
            (a.level, a.score, reasons(&a)),
            (RiskLevel::Info, 0, vec![])
        );
        assert_eq!(
            a.not_evaluated,
            ["USER.1", "USER.2", "USER.3", "USER.4", "USER.5", "USER.6", "USER.7"]
        );
        let a = assess(&Facts {
            is_root: true,
            ..unknown
        });
        assert_eq!(
            (a.level, a.score, reasons(&a)),
            (RiskLevel::Info, 0, vec![])
        );
        assert_eq!(a.not_evaluated, ["ROOT.1", "ROOT.2", "ROOT.3"]);
    }

    #[test]
    fn root_with_keys_without_mfa_recently_used() {
        let a = assess(&Facts {
            has_mfa: Some(false),
            password_last_used: LastUsed::At(ago(3)),
            access_keys: Some(vec![
                key(
                    "access_key_2",
                    false,
                    Some(ago(900)),
                    LastUsed::At(ago(400)),
                ),
                key("access_key_1", true, Some(ago(800)), LastUsed::At(ago(1))),
            ]),
            ..clean_root()
        });
        assert_eq!(
            a.reasons,
            [
                RiskReason {
                    rule: "ROOT.1",
                    cis: "1.4",
                    level: RiskLevel::Critical,
                    text: "root user has 1 active access key (CIS 1.4)".into(),
                },
                RiskReason {
                    rule: "ROOT.2",
                    cis: "1.5",
                    level: RiskLevel::Critical,
                    text: "root user without MFA (CIS 1.5)".into(),
                },
                RiskReason {
                    rule: "ROOT.3",
                    cis: "1.7",
                    level: RiskLevel::High,
                    text: "root access key access_key_1 used 1 day ago (CIS 1.7)".into(),
                },
            ]
        );
        // 80 + 80 + 50 = 210, capped.
        assert_eq!((a.level, a.score), (RiskLevel::Critical, 100));
        assert!(a.not_evaluated.is_empty());

        let two = assess(&Facts {
            access_keys: Some(vec![
                key("access_key_1", true, Some(ago(800)), LastUsed::Never),
                key("access_key_2", true, Some(ago(800)), LastUsed::Never),
            ]),
            ..clean_root()
        });
        assert_eq!(
            reasons(&two),
            [("ROOT.1", "root user has 2 active access keys (CIS 1.4)")]
        );
        assert_eq!((two.level, two.score), (RiskLevel::Critical, 80));
    }

    #[test]
    fn root_is_not_judged_by_user_rules() {
        let facts = Facts {
            console_password: Some(true),
            password_last_used: LastUsed::At(ago(300)),
            is_admin: None,
            access_keys: Some(vec![key(
                "access_key_1",
                false,
                Some(ago(800)),
                LastUsed::At(ago(300)),
            )]),
            direct_policies: None,
            ..clean_root()
        };
        let a = assess(&facts);
        assert_eq!(
            (a.level, a.score, outcome(&a)),
            (RiskLevel::Info, 0, (vec![], vec![]))
        );
        // The same facts for an IAM user fire USER.4 and leave USER.7 open.
        let a = assess(&Facts {
            is_root: false,
            ..facts
        });
        assert_eq!(
            outcome(&a),
            (
                vec![("USER.4", "console password unused for 300 days (CIS 1.12)")],
                vec!["USER.7"]
            )
        );
        // And an IAM user recently used is not judged by ROOT.3.
        let a = assess(&Facts {
            password_last_used: LastUsed::At(NOW),
            ..clean()
        });
        assert_eq!(outcome(&a), (vec![], vec![]));
    }

    #[test]
    fn root_recent_use_window() {
        let used = |last_used: LastUsed| {
            assess(&Facts {
                password_last_used: last_used,
                ..clean_root()
            })
        };
        let a = used(LastUsed::At(ago(7) + 1));
        assert_eq!(
            reasons(&a),
            [(
                "ROOT.3",
                "root user signed in with its password 6 days ago (CIS 1.7)"
            )]
        );
        assert_eq!((a.level, a.score), (RiskLevel::High, 50));
        let a = used(LastUsed::At(NOW));
        assert_eq!(
            reasons(&a),
            [(
                "ROOT.3",
                "root user signed in with its password less than a day ago (CIS 1.7)"
            )]
        );
        for last_used in [LastUsed::At(ago(7)), LastUsed::Never] {
            let a = used(last_used);
            assert_eq!(outcome(&a), (vec![], vec![]));
        }
        // A use dated in the future: not fired, but not cleared either.
        let a = used(LastUsed::At(NOW + 1));
        assert_eq!(outcome(&a), (vec![], vec!["ROOT.3"]));
        // Password use unknown: open, unless a known use fires.
        let a = used(LastUsed::Unknown);
        assert_eq!(outcome(&a), (vec![], vec!["ROOT.3"]));
        let a = assess(&Facts {
            password_last_used: LastUsed::Unknown,
            access_keys: Some(vec![key(
                "access_key_1",
                false,
                Some(ago(800)),
                LastUsed::At(ago(2)),
            )]),
            ..clean_root()
        });
        assert_eq!(
            outcome(&a),
            (
                vec![(
                    "ROOT.3",
                    "root access key access_key_1 used 2 days ago (CIS 1.7)"
                )],
                vec![]
            )
        );
    }

    #[test]
    fn root_facts_unknown() {
        let a = assess(&Facts {
            access_keys: None,
            ..clean_root()
        });
        assert_eq!(outcome(&a), (vec![], vec!["ROOT.1", "ROOT.3"]));
        let a = assess(&Facts {
            has_mfa: None,
            ..clean_root()
        });
        assert_eq!(outcome(&a), (vec![], vec!["ROOT.2"]));
    }

    #[test]
    fn extreme_timestamps_do_not_panic() {
        for now_ms in [i64::MIN, -1, 0, NOW, i64::MAX] {
            for t in [i64::MIN, -1, 0, NOW, i64::MAX] {
                for is_root in [false, true] {
                    let facts = Facts {
                        now_ms,
                        is_root,
                        console_password: Some(true),
                        password_last_used: LastUsed::At(t),
                        password_last_changed_ms: Some(t),
                        user_created_ms: Some(t),
                        has_mfa: Some(true),
                        is_admin: Some(true),
                        access_keys: Some(vec![
                            key("AKIA1", true, Some(t), LastUsed::At(t)),
                            key("AKIA2", true, Some(t), LastUsed::Never),
                        ]),
                        direct_policies: Some(u32::MAX),
                    };
                    let a = assess(&facts);
                    assert!(a.score <= MAX_SCORE);
                }
            }
        }
        // Created at i64::MIN, collected at i64::MAX: the age saturates, the text still reads.
        let a = assess(&Facts {
            now_ms: i64::MAX,
            access_keys: Some(vec![key("AKIA1", true, Some(i64::MIN), LastUsed::Never)]),
            direct_policies: Some(0),
            ..clean()
        });
        assert!(reasons(&a).contains(&(
            "USER.5",
            "active access key AKIA1 created 106751991167 days ago, not rotated within 90 days (CIS 1.14)"
        )));
    }
}
