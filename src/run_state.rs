//! The run-state (WIT `run-state`): what one collection hands the next, so that a repeat run
//! of an account that barely changed lists again only what changed.
//!
//! It holds, for each user whose access keys or signing certificates were listed, the ids,
//! statuses and creation times listed (ListAccessKeys, ListSigningCertificates). The bulk
//! strategy reuses them for a user when the state vouches for them:
//!
//! - the user is the same: same ARN and same `UserId` (a user deleted and re-created under
//!   the same name has a new one);
//! - the credential report's slots describe exactly the stored credentials: as many slots
//!   holding one as stored, each slot's `…_last_rotated` (the `CreateDate` or `UploadDate`,
//!   whole seconds) and `…_active` matching one stored credential's. A key created, deleted,
//!   deactivated or re-activated since changes its slot, so the user's keys are listed again.
//!
//! Anything else is listed as without a state. Reused credentials are as fresh as the report
//! (IAM regenerates it at most every 4 hours), as every other fact the report gives is.
//!
//! Wire format: JSON, `{"format":2,"component":"0.2.0","users":{"/path/name":[UserId,
//! [[id,active,created_ms],…] or null,[[id,active,uploaded_ms],…] or null],…},"account":
//! "…"}`: each user by its ARN after `:user` (the account's ARN prefix is the same for
//! all), its access keys and certificates (null: not listed). About 120 bytes a user. A
//! state of another format, component version or account is ignored with a warning.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::arn;
use crate::credential_report::{whole_second, ReportRow};
use crate::model::{AccessKey, Credential, User, UserRecord};

/// The wire format's version.
const FORMAT: u32 = 2;

/// One listed credential: its id, whether it was `Active`, and its creation (keys) or upload
/// (certificates) time, ms since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Held(String, bool, Option<i64>);

/// What the state keeps of one user: its `UserId`, and ListAccessKeys and
/// ListSigningCertificates when they were listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Entry(String, Option<Vec<Held>>, Option<Vec<Held>>);

/// A user's key in the state: its ARN after `:user` (path and name), or the whole ARN.
fn key(arn: &str) -> &str {
    arn.find(":user/").map_or(arn, |at| &arn[at + 5..])
}

/// The wire format as read (it is written member by member: [`RunState::keep`]).
#[derive(Debug, Deserialize)]
struct Wire {
    format: u32,
    component: String,
    /// The 12-digit account of the users (from their ARNs); empty when none was stored.
    account: String,
    users: HashMap<String, Entry>,
}

/// The run-state one collection reads (the previous run's) and the one it builds.
#[derive(Debug, Default)]
pub struct RunState {
    /// The previous run's users by ARN, once read and accepted.
    prior: HashMap<String, Entry>,
    /// The previous run's account (its users' keys do not say it), checked against the
    /// first user listed.
    prior_account: String,
    /// Whether `prior_account` was checked.
    account_checked: bool,
    /// Whether the previous run's state has been read (or found unusable).
    loaded: bool,
    /// Whether this collection started from a cursor: users of the pages before it were not
    /// seen by this instance, so their prior entries are carried over.
    resumed: bool,
    /// This run's state as written so far: the wire format up to its `users` members, one
    /// per user kept (written as they come, so a page's users cost their text alone).
    next: Vec<u8>,
    /// The account of the first user kept.
    next_account: Option<String>,
    /// Whether room for the whole account's text was reserved.
    reserved: bool,
    /// Users whose access keys, and whose certificates, were taken from the state.
    pub reused_keys: u32,
    /// See `reused_keys`.
    pub reused_certificates: u32,
}

impl RunState {
    /// Reads the previous run's state once per collection; `resumed` when the collection's
    /// first call in this instance came with a cursor.
    ///
    /// Returns a warning to log when `text` is not a state this component wrote (another
    /// format, another component version, unreadable); the state is then ignored.
    pub fn load(&mut self, text: Option<&str>, resumed: bool) -> Option<String> {
        if self.loaded {
            return None;
        }
        self.loaded = true;
        self.resumed = resumed;
        let text = text?;
        let wire: Wire = match serde_json::from_str(text) {
            Ok(wire) => wire,
            Err(error) => return Some(format!("the run-state is unreadable ({error}); ignored")),
        };
        if wire.format != FORMAT || wire.component != crate::VERSION {
            return Some(format!(
                "the run-state was written by component {} (format {}), this is {} (format \
                 {FORMAT}); ignored",
                wire.component,
                wire.format,
                crate::VERSION
            ));
        }
        self.prior = wire.users;
        self.prior_account = wire.account;
        None
    }

    /// Checks the previous run's account against that of `user_arn` (the first user
    /// listed): a state of another account is dropped, with the warning returned.
    pub fn check_account(&mut self, user_arn: &str) -> Option<String> {
        if std::mem::replace(&mut self.account_checked, true) || self.prior_account.is_empty() {
            return None;
        }
        let account = arn::Arn::parse(user_arn).map(|a| a.account_id.to_owned())?;
        if self.prior_account == account {
            return None;
        }
        self.prior.clear();
        let prior = std::mem::take(&mut self.prior_account);
        Some(format!(
            "the run-state is of account {prior}, this collection is of account {account}; ignored"
        ))
    }

    /// The access keys the state vouches for `user`, given its report row (see the module
    /// documentation); their last use is left to the report.
    pub fn access_keys(&mut self, user: &User, row: &ReportRow) -> Option<Vec<AccessKey>> {
        let held = self.entry(user)?.1.as_ref()?;
        let slots = row.keys.iter().filter(|slot| slot.holds_a_key());
        let vouched = matches(held, slots.map(|slot| (slot.active, slot.rotated_ms)));
        if !vouched {
            return None;
        }
        let keys = held
            .iter()
            .map(|Held(id, active, created_ms)| AccessKey {
                id: id.clone(),
                status: status(*active),
                created_ms: *created_ms,
                last_used: None,
            })
            .collect();
        self.reused_keys += 1;
        Some(keys)
    }

    /// The signing certificates the state vouches for `user`, given its report row.
    pub fn signing_certificates(
        &mut self,
        user: &User,
        row: &ReportRow,
    ) -> Option<Vec<Credential>> {
        let held = self.entry(user)?.2.as_ref()?;
        let slots = row.certificates.iter().filter(|s| s.holds_a_certificate());
        let vouched = matches(held, slots.map(|slot| (slot.active, slot.rotated_ms)));
        if !vouched {
            return None;
        }
        let certificates = held
            .iter()
            .map(|Held(id, active, uploaded_ms)| Credential {
                id: id.clone(),
                status: status(*active),
                uploaded_ms: *uploaded_ms,
            })
            .collect();
        self.reused_certificates += 1;
        Some(certificates)
    }

    /// Keeps what `record` lists for the next run: its access keys and certificates, when
    /// they were listed (or reused) without error. The previous run's entry for the user is
    /// spent (and its memory given back).
    pub fn keep(&mut self, record: &UserRecord) {
        self.prior.remove(key(&record.user.arn));
        if record.deleted {
            return;
        }
        let keys = record.access_keys.as_ref().map(|keys| {
            keys.iter()
                .map(|k| Held(k.id.clone(), k.is_active(), k.created_ms))
                .collect::<Vec<_>>()
        });
        let certificates = record.signing_certificates.as_ref().map(|certs| {
            certs
                .iter()
                .map(|c| Held(c.id.clone(), c.status == "Active", c.uploaded_ms))
                .collect::<Vec<_>>()
        });
        // An empty list costs a listing only when the report says there is something.
        let keys = keys.filter(|k| !k.is_empty());
        let certificates = certificates.filter(|c| !c.is_empty());
        if keys.is_none() && certificates.is_none() {
            return;
        }
        if self.next_account.is_none() {
            self.next_account = arn::Arn::parse(&record.user.arn).map(|a| a.account_id.to_owned());
        }
        self.write(
            key(&record.user.arn),
            &Entry(record.user.id.clone(), keys, certificates),
        );
    }

    /// After the first page of `users` of an account of `account_users`, reserves room for
    /// the rest at the first page's rate (plus a tenth): the text is then allocated once,
    /// early, instead of growing in steps among the pages' allocations.
    pub fn reserve(&mut self, users: usize, account_users: usize) {
        if self.reserved || users == 0 {
            return;
        }
        self.reserved = true;
        let rest = account_users.saturating_sub(users);
        let per_user = self.next.len() / users + 1;
        self.next.reserve(rest.saturating_mul(per_user) / 10 * 11);
    }

    /// Writes one `users` member, after the wire format's start when it is the first.
    fn write(&mut self, key: &str, entry: &Entry) {
        if self.next.is_empty() {
            self.start();
        } else {
            self.next.push(b',');
        }
        // Writing a string or an `Entry` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.next, key);
        self.next.push(b':');
        let _ = serde_json::to_writer(&mut self.next, entry);
    }

    fn start(&mut self) {
        self.next
            .extend_from_slice(format!("{{\"format\":{FORMAT},\"component\":").as_bytes());
        let _ = serde_json::to_writer(&mut self.next, crate::VERSION);
        self.next.extend_from_slice(b",\"users\":{");
    }

    /// The state for the next run: this run's users, and when this instance resumed a
    /// collection, the previous run's users it did not see (they may be on the pages before
    /// the cursor).
    pub fn encode(&mut self) -> String {
        let mut account = self.next_account.take();
        // What is left of the previous run's users (those this instance did not see), and
        // never another account's (a state of another account was cleared when seen).
        let prior = std::mem::take(&mut self.prior);
        let of = std::mem::take(&mut self.prior_account);
        if self.resumed && !of.is_empty() && *account.get_or_insert_with(|| of.clone()) == of {
            for (key, entry) in prior {
                self.write(&key, &entry);
            }
        }
        if self.next.is_empty() {
            self.start();
        }
        let mut text = std::mem::take(&mut self.next);
        text.extend_from_slice(b"},\"account\":");
        let _ = serde_json::to_writer(&mut text, &account.unwrap_or_default());
        text.push(b'}');
        String::from_utf8(text).unwrap_or_default()
    }

    fn entry(&self, user: &User) -> Option<&Entry> {
        self.prior
            .get(key(&user.arn))
            .filter(|entry| entry.0 == user.id)
    }
}

/// Whether `held` and the report's occupied `slots` (active, last rotated) describe the same
/// credentials: as many, each slot matching a distinct stored one by status and second.
fn matches(held: &[Held], slots: impl Iterator<Item = (Option<bool>, Option<i64>)>) -> bool {
    let slots: Vec<_> = slots.collect();
    if slots.len() != held.len() {
        return false;
    }
    let mut unmatched: Vec<&Held> = held.iter().collect();
    slots.iter().all(|(active, rotated)| {
        let found = unmatched.iter().position(|Held(_, held_active, created)| {
            *active == Some(*held_active)
                && rotated.is_some()
                && created.map(whole_second) == *rotated
        });
        found.map(|at| unmatched.swap_remove(at)).is_some()
    })
}

fn status(active: bool) -> String {
    if active { "Active" } else { "Inactive" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential_report::{CertSlot, KeySlot};

    const ARN: &str = "arn:aws:iam::111122223333:user/alice";

    fn user(id: &str) -> User {
        User {
            name: "alice".into(),
            id: id.into(),
            arn: ARN.into(),
            path: "/".into(),
            created_ms: Some(1_600_000_000_000),
            password_last_used_ms: None,
        }
    }

    fn key(id: &str, status: &str, created_ms: i64) -> AccessKey {
        AccessKey {
            id: id.into(),
            status: status.into(),
            created_ms: Some(created_ms),
            last_used: None,
        }
    }

    fn slot(active: bool, rotated_ms: i64) -> KeySlot {
        KeySlot {
            active: Some(active),
            rotated_ms: Some(rotated_ms),
            ..KeySlot::default()
        }
    }

    /// A state holding alice's two keys (one created with a fraction of a second) and one
    /// certificate, read back as a new run would.
    fn stored() -> RunState {
        let mut first = RunState::default();
        assert_eq!(first.load(None, false), None);
        let mut record = UserRecord::new(user("AIDAALICE"));
        record.access_keys = Some(vec![
            key("AKIA1", "Active", 1_700_000_000_500),
            key("AKIA2", "Inactive", 1_710_000_000_000),
        ]);
        record.signing_certificates = Some(vec![Credential {
            id: "CERT1".into(),
            status: "Active".into(),
            uploaded_ms: Some(1_650_000_000_000),
        }]);
        first.keep(&record);
        let mut bob = UserRecord::new(User {
            name: "bob".into(),
            arn: "arn:aws:iam::111122223333:user/bob".into(),
            ..user("AIDABOB")
        });
        bob.access_keys = Some(Vec::new());
        first.keep(&bob);
        let text = first.encode();
        assert!(!text.contains("bob"), "nothing worth keeping: {text}");
        let mut next = RunState::default();
        assert_eq!(next.load(Some(&text), false), None);
        next
    }

    fn row() -> ReportRow {
        ReportRow {
            keys: [
                slot(true, 1_700_000_000_000),
                slot(false, 1_710_000_000_000),
            ],
            certificates: [
                CertSlot {
                    active: Some(true),
                    rotated_ms: Some(1_650_000_000_000),
                },
                CertSlot::default(),
            ],
            ..ReportRow::default()
        }
    }

    #[test]
    fn unchanged_slots_give_back_the_listed_keys_and_certificates() {
        let mut state = stored();
        let keys = state.access_keys(&user("AIDAALICE"), &row()).unwrap();
        assert_eq!(
            keys,
            vec![
                key("AKIA1", "Active", 1_700_000_000_500),
                key("AKIA2", "Inactive", 1_710_000_000_000)
            ]
        );
        let certs = state
            .signing_certificates(&user("AIDAALICE"), &row())
            .unwrap();
        assert_eq!(certs[0].id, "CERT1");
        assert_eq!((state.reused_keys, state.reused_certificates), (1, 1));
    }

    #[test]
    fn a_rotated_deactivated_or_new_key_and_a_recreated_user_are_listed_again() {
        let mut state = stored();
        let mut rotated = row();
        rotated.keys[0] = slot(true, 1_720_000_000_000);
        assert_eq!(state.access_keys(&user("AIDAALICE"), &rotated), None);
        let mut deactivated = row();
        deactivated.keys[0].active = Some(false);
        assert_eq!(state.access_keys(&user("AIDAALICE"), &deactivated), None);
        let mut one_deleted = row();
        one_deleted.keys[1] = KeySlot::default();
        assert_eq!(state.access_keys(&user("AIDAALICE"), &one_deleted), None);
        assert_eq!(
            state.access_keys(&user("AIDAOTHER"), &row()),
            None,
            "same name, new UserId"
        );
        let mut new_certificate = row();
        new_certificate.certificates[1] = CertSlot {
            active: Some(true),
            rotated_ms: Some(1_730_000_000_000),
        };
        assert_eq!(
            state.signing_certificates(&user("AIDAALICE"), &new_certificate),
            None
        );
        assert_eq!(state.reused_keys, 0);
    }

    #[test]
    fn a_state_of_another_account_version_or_format_is_ignored() {
        let text = stored_text();
        let mut other_account = RunState::default();
        other_account.load(Some(&text), false);
        let stranger = User {
            arn: "arn:aws:iam::999988887777:user/alice".into(),
            ..user("AIDAALICE")
        };
        assert_eq!(
            other_account.check_account(&stranger.arn).unwrap(),
            "the run-state is of account 111122223333, this collection is of account \
             999988887777; ignored"
        );
        assert_eq!(other_account.access_keys(&user("AIDAALICE"), &row()), None);

        let older = text.replace(crate::VERSION, "0.1.9");
        let warning = RunState::default().load(Some(&older), false).unwrap();
        assert!(warning.starts_with("the run-state was written by component 0.1.9"));
        let warning = RunState::default().load(Some("{"), false).unwrap();
        assert!(warning.starts_with("the run-state is unreadable"));

        let mut same = RunState::default();
        same.load(Some(&text), false);
        assert_eq!(same.check_account(ARN), None);
        assert!(same.access_keys(&user("AIDAALICE"), &row()).is_some());
    }

    fn stored_text() -> String {
        let mut state = stored();
        state.resumed = true;
        state.encode()
    }

    #[test]
    fn a_new_collection_keeps_only_the_users_it_saw_a_resumed_one_also_the_others() {
        let mut fresh = stored();
        assert_eq!(
            fresh.encode(),
            format!(
                "{{\"format\":2,\"component\":\"{}\",\"users\":{{}},\"account\":\"\"}}",
                crate::VERSION
            ),
            "alice was not listed this time: deleted"
        );
        let text = stored_text();
        assert!(text.contains("\"account\":\"111122223333\""), "{text}");
        assert!(text.contains("[\"AKIA1\",true,1700000000500]"), "{text}");
        let mut again = RunState::default();
        again.load(Some(&text), false);
        assert!(again.load(Some("ignored: read once"), false).is_none());
        assert!(again.access_keys(&user("AIDAALICE"), &row()).is_some());
        // The text written member by member is the wire format: every field, read back.
        let wire: Wire = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (wire.format, wire.component.as_str(), wire.account.as_str()),
            (2, crate::VERSION, "111122223333")
        );
        assert_eq!(wire.users.len(), 1);
        // A user seen spends its entry: a resumed instance does not write it twice.
        let mut resumed = RunState::default();
        resumed.load(Some(&text), true);
        let mut alice = UserRecord::new(user("AIDAALICE"));
        alice.access_keys = Some(vec![key("AKIA2", "Active", 1_700_000_100_000)]);
        resumed.keep(&alice);
        let wire: Wire = serde_json::from_str(&resumed.encode()).unwrap();
        assert_eq!(wire.users.len(), 1);
        assert_eq!(wire.users["/alice"].1.as_ref().unwrap()[0].0, "AKIA2");
    }
}
