//! Where an organization run's events go, and its checkpoint (format version
//! [`ORGANIZATION_VERSION`]).
//!
//! Destinations:
//! - stdout, or `--output FILE`: one NDJSON stream for every account (each event carries its
//!   `user.account.uid`). Pages are written whole, one at a time, so lines of two accounts
//!   never interleave. FILE is a temporary file renamed over FILE at the end (when at least
//!   one account finished), unless the run is checkpointed.
//! - `--output-dir DIR`: one file per account, `DIR/<account id>.ndjson`, each replaced only
//!   when its account finishes (a failed account's previous file stays as it was), unless the
//!   run is checkpointed.
//!
//! With `--checkpoint CP`, every page is fsynced to its file, then CP is replaced atomically
//! with: what the run is bound to (the caller's account, region, component, member role and
//! output), the stream file's length and SHA-256 (or, per account, its own file's), and per
//! account whether it finished, its cursor after the last durable page and its events. A rerun
//! of the same command checks CP vouches for it, truncates each file to its durable length
//! (dropping what a killed run wrote after it), skips the finished accounts and resumes the
//! others from their cursors. CP is removed when every account has finished; a run in which
//! an account failed keeps it, so the next run retries only what is not done.
//!
//! Files are created as the single-account checkpoint creates them
//! ([`crate::checkpoint`]): temporary files exclusively with random names and mode 0600,
//! checkpointed outputs never through a symbolic link.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::checkpoint::{
    keep_mode, open_no_follow, same_file, sync_directory, temporary_beside, Checkpoint, HashSink,
    ORGANIZATION_VERSION,
};
use crate::error::OutputError;

/// What an organization checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationPosition {
    /// [`ORGANIZATION_VERSION`].
    pub version: u32,
    /// What the run that wrote it collected.
    pub binding: OrganizationBinding,
    /// Where its events went, and how much of the stream is durable.
    pub output: RecordedOutput,
    /// Per account id: finished, or its cursor.
    pub accounts: BTreeMap<String, AccountPosition>,
}

/// What a checkpointed organization run is of: a resume must match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationBinding {
    /// The account the configured credentials act in (STS GetCallerIdentity): the management
    /// or delegated-administrator account.
    pub caller_account: String,
    /// The configured region.
    pub region: String,
    /// SHA-256 (lowercase hex) of the component file.
    pub component_sha256: String,
    /// `--member-role`.
    pub member_role: String,
}

/// The output a checkpoint vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordedOutput {
    /// `--output FILE`: its durable length and the SHA-256 of that prefix.
    File {
        /// FILE as given on the command line.
        path: PathBuf,
        /// Bytes durable.
        len: u64,
        /// SHA-256 (lowercase hex) of those bytes.
        sha256: String,
    },
    /// `--output-dir DIR` (each account's file in its [`AccountPosition`]).
    Dir {
        /// DIR as given on the command line.
        path: PathBuf,
    },
}

/// One account's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPosition {
    /// Its collection is complete.
    pub finished: bool,
    /// The cursor after its last durable page (none before its first, or once finished).
    pub cursor: Option<String>,
    /// Its events written so far.
    pub events: u64,
    /// With `--output-dir`: its file's durable length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_len: Option<u64>,
    /// With `--output-dir`: SHA-256 (lowercase hex) of that prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
}

/// Where the events of an organization run go (`--output`, `--output-dir`, or neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationDestination {
    /// Standard output.
    Stdout,
    /// One NDJSON file for every account.
    File(PathBuf),
    /// One file per account in this directory.
    Dir(PathBuf),
}

/// A file appended to with its length and digest tracked (a checkpointed output).
struct Tracked {
    file: File,
    hasher: Sha256,
    len: u64,
}

impl Tracked {
    /// Opens `path` (never through a link; created 0600 when missing). With `recorded`
    /// (length, SHA-256) its first bytes must match and it is cut to that length; without,
    /// it is emptied.
    fn open(
        path: &Path,
        recorded: Option<(u64, &str)>,
        checkpoint: &Checkpoint,
    ) -> Result<Tracked, OutputError> {
        let create = |source| OutputError::Create {
            path: path.to_owned(),
            source,
        };
        let mut file = open_no_follow(path).map_err(create)?;
        let mut hasher = Sha256::new();
        let len = match recorded {
            None => {
                file.set_len(0).map_err(create)?;
                0
            }
            Some((len, sha256)) => {
                let actual = file.metadata().map_err(create)?.len();
                if actual < len {
                    return Err(checkpoint.mismatch(format!(
                        "{} has {actual} bytes but the checkpoint recorded {len}; it was changed since",
                        path.display()
                    )));
                }
                std::io::copy(&mut (&file).take(len), &mut HashSink(&mut hasher))
                    .map_err(create)?;
                if format!("{:x}", hasher.clone().finalize()) != sha256 {
                    return Err(checkpoint.mismatch(format!(
                        "the first {len} bytes of {} are not the ones it recorded; the file was \
                         changed since",
                        path.display()
                    )));
                }
                // Drop whatever a killed run wrote after its last durable page.
                file.set_len(len).map_err(create)?;
                len
            }
        };
        file.seek(SeekFrom::End(0)).map_err(create)?;
        Ok(Tracked { file, hasher, len })
    }

    /// Appends `bytes` and makes them durable.
    fn append(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.file.write_all(bytes).map_err(OutputError::Write)?;
        self.file.sync_data().map_err(OutputError::Write)?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn digest(&self) -> String {
        format!("{:x}", self.hasher.clone().finalize())
    }
}

/// One account's file under `--output-dir`.
enum AccountFile {
    /// Replaced when the account finishes.
    Replace(BufWriter<NamedTempFile>),
    /// Checkpointed.
    Tracked(Tracked),
}

enum Target<'a> {
    Stdout(&'a mut dyn Write),
    Replace {
        file: BufWriter<NamedTempFile>,
        path: PathBuf,
    },
    Tracked {
        file: Tracked,
        path: PathBuf,
    },
    Dir {
        dir: PathBuf,
        files: BTreeMap<String, AccountFile>,
    },
}

/// The output of an organization run: written by one thread, a page at a time.
pub struct OrganizationOutput<'a> {
    target: Target<'a>,
    checkpoint: Option<(Checkpoint, OrganizationBinding)>,
    accounts: BTreeMap<String, AccountPosition>,
}

/// The file of `account` under `dir`: `DIR/<account id>.ndjson`.
pub fn account_file(dir: &Path, account: &str) -> PathBuf {
    dir.join(format!("{account}.ndjson"))
}

impl<'a> OrganizationOutput<'a> {
    /// Opens `destination`, resuming from `checkpoint` (its path and what this run is of)
    /// when it exists. Returns the output and, per account, what earlier runs did.
    ///
    /// Errors: [`OutputError::Create`] (a file or the directory cannot be created or opened,
    /// a link included), [`OutputError::Checkpoint`] (unreadable), [`OutputError::Mismatch`]
    /// (a single-account checkpoint, or one of another caller account, region, component,
    /// member role or output; a file changed since), [`OutputError::SameFile`].
    pub fn open(
        stdout: &'a mut dyn Write,
        destination: &OrganizationDestination,
        checkpoint: Option<(&Path, OrganizationBinding)>,
    ) -> Result<(OrganizationOutput<'a>, BTreeMap<String, AccountPosition>), OutputError> {
        let create_error = |path: &Path| {
            let path = path.to_owned();
            move |source| OutputError::Create { path, source }
        };
        if let OrganizationDestination::Dir(dir) = destination {
            std::fs::create_dir_all(dir).map_err(create_error(dir))?;
        }
        let Some((checkpoint_path, binding)) = checkpoint else {
            let target = match destination {
                OrganizationDestination::Stdout => Target::Stdout(stdout),
                OrganizationDestination::File(path) => Target::Replace {
                    file: BufWriter::new(temporary_beside(path).map_err(create_error(path))?),
                    path: path.clone(),
                },
                OrganizationDestination::Dir(dir) => Target::Dir {
                    dir: dir.clone(),
                    files: BTreeMap::new(),
                },
            };
            return Ok((
                OrganizationOutput {
                    target,
                    checkpoint: None,
                    accounts: BTreeMap::new(),
                },
                BTreeMap::new(),
            ));
        };
        let checkpoint = Checkpoint::new(checkpoint_path);
        let saved = load(&checkpoint)?;
        if let Some(position) = &saved {
            vouches_for(&checkpoint, position, destination, &binding)?;
        }
        let accounts = saved
            .as_ref()
            .map(|position| position.accounts.clone())
            .unwrap_or_default();
        let target = match destination {
            OrganizationDestination::Stdout => {
                return Err(OutputError::Checkpoint {
                    path: checkpoint_path.to_owned(),
                    reason: "a checkpointed run needs --output FILE or --output-dir DIR".into(),
                })
            }
            OrganizationDestination::File(path) => {
                if same_file(path, checkpoint_path) {
                    return Err(OutputError::SameFile { path: path.clone() });
                }
                let recorded = match saved.as_ref().map(|position| &position.output) {
                    Some(RecordedOutput::File { len, sha256, .. }) => Some((*len, sha256.as_str())),
                    _ => None,
                };
                Target::Tracked {
                    file: Tracked::open(path, recorded, &checkpoint)?,
                    path: path.clone(),
                }
            }
            OrganizationDestination::Dir(dir) => {
                let mut files = BTreeMap::new();
                for (id, position) in accounts.iter().filter(|(_, p)| !p.finished) {
                    let path = account_file(dir, id);
                    if same_file(&path, checkpoint_path) {
                        return Err(OutputError::SameFile { path });
                    }
                    let recorded = position.file_len.zip(position.file_sha256.as_deref());
                    files.insert(
                        id.clone(),
                        AccountFile::Tracked(Tracked::open(&path, recorded, &checkpoint)?),
                    );
                }
                Target::Dir {
                    dir: dir.clone(),
                    files,
                }
            }
        };
        Ok((
            OrganizationOutput {
                target,
                checkpoint: Some((checkpoint, binding)),
                accounts: accounts.clone(),
            },
            accounts,
        ))
    }

    /// Writes one page of `account` whole (`page`: its NDJSON lines, `events` of them) and
    /// marks it done with `next`, the cursor after it (`None`: the account is finished). A
    /// checkpointed output makes the page durable, then records the position.
    ///
    /// Errors: [`OutputError::Write`], [`OutputError::Create`] (an account's file),
    /// [`OutputError::Checkpoint`].
    pub fn write_page(
        &mut self,
        account: &str,
        page: &[u8],
        events: u64,
        next: Option<&str>,
    ) -> Result<(), OutputError> {
        let checkpointed = self.checkpoint.is_some();
        let position = self.accounts.entry(account.to_owned()).or_default();
        match &mut self.target {
            Target::Stdout(out) => {
                out.write_all(page).map_err(OutputError::Write)?;
                out.flush().map_err(OutputError::Write)?;
            }
            Target::Replace { file, .. } => file.write_all(page).map_err(OutputError::Write)?,
            Target::Tracked { file, .. } => file.append(page)?,
            Target::Dir { dir, files } => {
                let path = account_file(dir, account);
                let file = match files.entry(account.to_owned()) {
                    std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                    std::collections::btree_map::Entry::Vacant(entry) => {
                        let opened = if checkpointed {
                            let (checkpoint, _) = self.checkpoint.as_ref().expect("checkpointed");
                            AccountFile::Tracked(Tracked::open(&path, None, checkpoint)?)
                        } else {
                            AccountFile::Replace(BufWriter::new(temporary_beside(&path).map_err(
                                |source| OutputError::Create {
                                    path: path.clone(),
                                    source,
                                },
                            )?))
                        };
                        entry.insert(opened)
                    }
                };
                match file {
                    AccountFile::Replace(writer) => {
                        writer.write_all(page).map_err(OutputError::Write)?;
                    }
                    AccountFile::Tracked(tracked) => {
                        tracked.append(page)?;
                        position.file_len = Some(tracked.len);
                        position.file_sha256 = Some(tracked.digest());
                    }
                }
                if next.is_none() {
                    // The account is complete: its file is replaced now.
                    if let Some(AccountFile::Replace(writer)) = files.remove(account) {
                        persist(writer, &path)?;
                    }
                }
            }
        }
        position.events += events;
        position.cursor = next.map(str::to_owned);
        position.finished = next.is_none();
        self.save()
    }

    /// Records that `account` failed: under `--output-dir` without a checkpoint, its
    /// temporary file is dropped and its previous file stays as it was. Its position (a
    /// checkpoint's cursor) is kept, so a rerun resumes it.
    pub fn account_failed(&mut self, account: &str) {
        if let Target::Dir { files, .. } = &mut self.target {
            if let Some(AccountFile::Replace(writer)) = files.remove(account) {
                drop(writer);
            }
        }
    }

    /// Ends the run: `complete` when every account finished. A checkpoint is removed when
    /// complete, else kept (it is up to date). A replaced `--output FILE` is renamed over
    /// FILE when at least one account finished in this run or an earlier one (`any_finished`),
    /// else dropped and FILE left as it was. Returns what the user should know about the
    /// output.
    ///
    /// Errors: [`OutputError::Write`], [`OutputError::Checkpoint`].
    pub fn finish(self, complete: bool, any_finished: bool) -> Result<Option<String>, OutputError> {
        match self.target {
            Target::Stdout(out) => out.flush().map_err(OutputError::Write)?,
            Target::Replace { file, path } => {
                if !any_finished {
                    drop(file);
                    return Ok(Some(format!("{} was left unchanged", path.display())));
                }
                persist(file, &path)?;
            }
            Target::Tracked { .. } | Target::Dir { .. } => {}
        }
        match &self.checkpoint {
            Some((checkpoint, _)) if complete => checkpoint.remove()?,
            Some((checkpoint, _)) if checkpoint.path().exists() => {
                return Ok(Some(format!(
                    "{} records what is done; run the same command again to retry the rest",
                    checkpoint.path().display()
                )));
            }
            _ => {}
        }
        Ok(None)
    }

    fn save(&self) -> Result<(), OutputError> {
        let Some((checkpoint, binding)) = &self.checkpoint else {
            return Ok(());
        };
        let output = match &self.target {
            Target::Tracked { file, path } => RecordedOutput::File {
                path: path.clone(),
                len: file.len,
                sha256: file.digest(),
            },
            Target::Dir { dir, .. } => RecordedOutput::Dir { path: dir.clone() },
            Target::Stdout(_) | Target::Replace { .. } => return Ok(()),
        };
        checkpoint.save_json(&OrganizationPosition {
            version: ORGANIZATION_VERSION,
            binding: binding.clone(),
            output,
            accounts: self.accounts.clone(),
        })
    }
}

/// Renames a finished temporary file over `path`, keeping `path`'s mode when it was a
/// regular file (a new one is 0600), and makes the rename durable.
fn persist(writer: BufWriter<NamedTempFile>, path: &Path) -> Result<(), OutputError> {
    let file = writer
        .into_inner()
        .map_err(|e| OutputError::Write(e.into_error()))?;
    file.as_file().sync_all().map_err(OutputError::Write)?;
    keep_mode(path, file.as_file()).map_err(OutputError::Write)?;
    file.persist(path)
        .map_err(|error| OutputError::Write(error.error))?;
    sync_directory(path).map_err(OutputError::Write)
}

/// The organization checkpoint at `checkpoint`, or `None` when there is none.
///
/// Errors: [`OutputError::Checkpoint`] when unreadable or of an unknown version,
/// [`OutputError::Mismatch`] for a single-account checkpoint (versions 2 and 3).
pub fn load(checkpoint: &Checkpoint) -> Result<Option<OrganizationPosition>, OutputError> {
    let Some((version, text)) = checkpoint.read()? else {
        return Ok(None);
    };
    match version {
        ORGANIZATION_VERSION => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| checkpoint.error(format!("not a checkpoint: {error}"))),
        2 | 3 => Err(checkpoint.mismatch(
            "it was written by a single-account run, this run is for an organization".into(),
        )),
        other => Err(checkpoint.error(format!("version {other} is not supported"))),
    }
}

/// Refuses a checkpoint written for another output, caller account, region, component or
/// member role.
fn vouches_for(
    checkpoint: &Checkpoint,
    position: &OrganizationPosition,
    destination: &OrganizationDestination,
    binding: &OrganizationBinding,
) -> Result<(), OutputError> {
    let (recorded, now) = match (&position.output, destination) {
        (RecordedOutput::File { path, .. }, OrganizationDestination::File(now)) if path == now => {
            (None, None)
        }
        (RecordedOutput::Dir { path }, OrganizationDestination::Dir(now)) if path == now => {
            (None, None)
        }
        (recorded, now) => (Some(recorded), Some(now)),
    };
    if let (Some(recorded), Some(now)) = (recorded, now) {
        let name = |output: &RecordedOutput| match output {
            RecordedOutput::File { path, .. } => format!("--output {}", path.display()),
            RecordedOutput::Dir { path } => format!("--output-dir {}", path.display()),
        };
        let now = match now {
            OrganizationDestination::Stdout => "stdout".to_owned(),
            OrganizationDestination::File(path) => format!("--output {}", path.display()),
            OrganizationDestination::Dir(path) => format!("--output-dir {}", path.display()),
        };
        return Err(checkpoint.mismatch(format!("it belongs to {}, not {now}", name(recorded))));
    }
    let saved = &position.binding;
    let differs = |what: &str, recorded: &str, now: &str| {
        Err(checkpoint.mismatch(format!(
            "it was written for {what} {recorded}, this run is for {what} {now}"
        )))
    };
    if saved.caller_account != binding.caller_account {
        return differs(
            "caller account",
            &saved.caller_account,
            &binding.caller_account,
        );
    }
    if saved.region != binding.region {
        return differs("region", &saved.region, &binding.region);
    }
    if saved.component_sha256 != binding.component_sha256 {
        return differs(
            "the component with sha256",
            &saved.component_sha256,
            &binding.component_sha256,
        );
    }
    if saved.member_role != binding.member_role {
        return differs("member role", &saved.member_role, &binding.member_role);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "aws-iam-users-organization-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn sink() -> &'static mut dyn Write {
        Box::leak(Box::new(std::io::sink()))
    }

    fn binding() -> OrganizationBinding {
        OrganizationBinding {
            caller_account: "111111111111".into(),
            region: "us-east-1".into(),
            component_sha256: "c0ffee".into(),
            member_role: "reader".into(),
        }
    }

    #[test]
    fn a_checkpointed_stream_resumes_each_account_after_its_last_durable_page() {
        let dir = scratch("stream");
        let (file, cp) = (dir.join("org.ndjson"), dir.join("org.checkpoint"));
        let destination = OrganizationDestination::File(file.clone());
        let (mut output, resumed) =
            OrganizationOutput::open(sink(), &destination, Some((&cp, binding()))).unwrap();
        assert!(resumed.is_empty());
        output
            .write_page("222222222222", b"{\"a\":1}\n", 1, Some("a-1"))
            .unwrap();
        output
            .write_page("333333333333", b"{\"b\":1}\n{\"b\":2}\n", 2, None)
            .unwrap();
        // A killed run: bytes after the last durable page.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap()
            .write_all(b"{\"a\":2}\n{\"a\"")
            .unwrap();
        drop(output);
        let saved = load(&Checkpoint::new(&cp)).unwrap().unwrap();
        assert_eq!(saved.version, 4);
        assert_eq!(
            saved.accounts["222222222222"],
            AccountPosition {
                finished: false,
                cursor: Some("a-1".into()),
                events: 1,
                ..AccountPosition::default()
            }
        );
        assert!(saved.accounts["333333333333"].finished);

        let (mut output, resumed) =
            OrganizationOutput::open(sink(), &destination, Some((&cp, binding()))).unwrap();
        assert_eq!(resumed, saved.accounts);
        output
            .write_page("222222222222", b"{\"a\":2}\n", 1, None)
            .unwrap();
        assert_eq!(output.finish(true, true).unwrap(), None);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"a\":1}\n{\"b\":1}\n{\"b\":2}\n{\"a\":2}\n"
        );
        assert!(!cp.exists(), "a complete run removes its checkpoint");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_output_dir_holds_one_file_per_account_replaced_when_it_finishes() {
        let dir = scratch("dir");
        let out = dir.join("accounts");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(account_file(&out, "333333333333"), "old\n").unwrap();
        let destination = OrganizationDestination::Dir(out.clone());
        let (mut output, _) = OrganizationOutput::open(sink(), &destination, None).unwrap();
        output
            .write_page("222222222222", b"{\"a\":1}\n", 1, Some("next"))
            .unwrap();
        output
            .write_page("333333333333", b"{\"b\":1}\n", 1, Some("next"))
            .unwrap();
        output
            .write_page("222222222222", b"{\"a\":2}\n", 1, None)
            .unwrap();
        output.account_failed("333333333333");
        assert_eq!(output.finish(false, true).unwrap(), None);
        assert_eq!(
            std::fs::read_to_string(account_file(&out, "222222222222")).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        assert_eq!(
            std::fs::read_to_string(account_file(&out, "333333333333")).unwrap(),
            "old\n",
            "a failed account's file is left as it was"
        );
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            2,
            "no temporary file left"
        );

        // Checkpointed: each account's file is tracked on its own.
        let cp = dir.join("cp");
        let (mut output, _) =
            OrganizationOutput::open(sink(), &destination, Some((&cp, binding()))).unwrap();
        output
            .write_page("333333333333", b"{\"b\":1}\n", 1, Some("b-1"))
            .unwrap();
        drop(output);
        let saved = load(&Checkpoint::new(&cp)).unwrap().unwrap();
        assert_eq!(saved.output, RecordedOutput::Dir { path: out.clone() });
        assert_eq!(saved.accounts["333333333333"].file_len, Some(8));
        std::fs::write(account_file(&out, "333333333333"), "{\"x\":1}\n").unwrap();
        let error = OrganizationOutput::open(sink(), &destination, Some((&cp, binding())))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("are not the ones it recorded"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpoint_of_another_run_or_kind_is_refused() {
        let dir = scratch("refuse");
        let (file, cp) = (dir.join("org.ndjson"), dir.join("org.checkpoint"));
        let destination = OrganizationDestination::File(file.clone());
        let (mut output, _) =
            OrganizationOutput::open(sink(), &destination, Some((&cp, binding()))).unwrap();
        output
            .write_page("222222222222", b"{}\n", 1, Some("c"))
            .unwrap();
        drop(output);
        let refused = |destination: &OrganizationDestination, binding: OrganizationBinding| {
            OrganizationOutput::open(sink(), destination, Some((&cp, binding)))
                .err()
                .unwrap()
                .to_string()
        };
        assert!(refused(
            &destination,
            OrganizationBinding {
                member_role: "other".into(),
                ..binding()
            }
        )
        .contains("it was written for member role reader, this run is for member role other"));
        assert!(refused(
            &destination,
            OrganizationBinding {
                caller_account: "999999999999".into(),
                ..binding()
            }
        )
        .contains("caller account 111111111111, this run is for caller account 999999999999"));
        assert!(
            refused(&OrganizationDestination::Dir(dir.join("d")), binding()).contains(&format!(
                "it belongs to --output {}, not --output-dir",
                file.display()
            ))
        );
        // A single-account checkpoint is not resumed by an organization run, nor the reverse.
        let single = dir.join("single.checkpoint");
        std::fs::write(&single, "{\"version\":3}").unwrap();
        let error = OrganizationOutput::open(sink(), &destination, Some((&single, binding())))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("written by a single-account run"), "{error}");
        let error = Checkpoint::new(&cp).load().unwrap_err().to_string();
        assert!(error.contains("written by an organization run"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
