//! Crash-safe output: where events go ([`Destination`]; [`crate::output`] writes the lines), and how a killed run resumes without losing or
//! doubling a user.
//!
//! - [`Destination::Stdout`]: events stream to standard output.
//! - [`Destination::Replace`]: `--output FILE` alone. Events go to a temporary file beside FILE,
//!   renamed over FILE only when the collection ends, so a failed run leaves the previous
//!   FILE untouched.
//! - [`Destination::Checkpointed`]: `--output FILE --checkpoint CP`. After each page the events
//!   are flushed and fsynced to FILE, then CP is replaced atomically (write, fsync, rename)
//!   with the next cursor, FILE's length and the SHA-256 of FILE up to that length. Re-running
//!   the same command checks that CP vouches for this run (same account, region, component
//!   and output file, FILE's first bytes unchanged), truncates FILE to that length (dropping a
//!   page half-written when the run died), appends from the cursor, and removes CP when the
//!   collection ends.
//!
//! With a Sekoia sink (`--sekoia-url`) a page counts as done only when all its batches were
//! accepted; until then the checkpoint keeps the previous page's position and lists the
//! `user.uid` of the page's events already accepted (`pushed`), so a resumed run collects the
//! page again, writes it whole to FILE and pushes only the others. The checkpoint is bound to
//! the push URL too: a run pushing elsewhere, or not at all, does not resume it.
//!
//! Files: temporary files are created exclusively (`O_CREAT | O_EXCL`, so never through a
//! planted link) with unpredictable names beside their target, mode 0600, by `tempfile`. A
//! replaced FILE keeps the mode it had; a new one is 0600. A checkpointed FILE is opened
//! without following a symbolic link (`O_NOFOLLOW`). `--output` and `--checkpoint` naming the
//! same file is refused.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::error::OutputError;

/// What a checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Format version of this file.
    pub version: u32,
    /// The cursor the component returned after the last durable page; `None` (version 3
    /// only) while the first page is not done.
    pub cursor: Option<String>,
    /// The output file this checkpoint belongs to (as given on the command line).
    pub output: PathBuf,
    /// The output file's length in bytes when the page was durable.
    pub output_len: u64,
    /// SHA-256 (lowercase hex) of the output file's first `output_len` bytes.
    pub output_sha256: String,
    /// Events in the output file up to that length.
    pub events: u64,
    /// `user.uid` of the events of the page after `cursor` that Sekoia already accepted (the
    /// page's batches pushed before a crash or a failed push); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushed: Vec<String>,
    /// What the run that wrote it collected.
    #[serde(flatten)]
    pub binding: Binding,
}

/// What a checkpointed collection is of: a resume must match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The AWS account the credentials act in (12 digits, STS GetCallerIdentity).
    pub account: String,
    /// The configured region.
    pub region: String,
    /// SHA-256 (lowercase hex) of the component file.
    pub component_sha256: String,
    /// The Sekoia push URL (`--sekoia-url` and `--connector-uuid`), when the run pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sekoia: Option<String>,
}

/// The checkpoint format version (2: bound to account, region, component and output digest;
/// 3: a Sekoia push URL, the first page's position and the events of a page already pushed).
const VERSION: u32 = 3;

/// Versions [`Checkpoint::load`] reads: a version 2 checkpoint is one without a push.
const READABLE_VERSIONS: [u32; 2] = [2, VERSION];

/// The format version of an organization run's checkpoint (finished accounts and each
/// unfinished one's cursor, see [`crate::organization::state`]); one account's run refuses it.
pub const ORGANIZATION_VERSION: u32 = 4;

/// A checkpoint file.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
}

impl Checkpoint {
    /// The checkpoint at `path` (not read yet).
    pub fn new(path: &Path) -> Self {
        Checkpoint {
            path: path.to_owned(),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved position, or `None` when there is no checkpoint file.
    ///
    /// Errors: [`OutputError::Checkpoint`] when it cannot be read or is not a checkpoint
    /// of this version.
    pub fn load(&self) -> Result<Option<Position>, OutputError> {
        let Some((version, text)) = self.read()? else {
            return Ok(None);
        };
        if version == ORGANIZATION_VERSION {
            return Err(self.mismatch(
                "it was written by an organization run (--organization or --accounts), this run \
                 is for one account"
                    .into(),
            ));
        }
        if !READABLE_VERSIONS.contains(&version) {
            return Err(self.error(format!("version {version} is not supported")));
        }
        let position: Position = serde_json::from_str(&text)
            .map_err(|error| self.error(format!("not a checkpoint: {error}")))?;
        Ok(Some(position))
    }

    /// The checkpoint's format version and text, or `None` when there is no checkpoint file.
    ///
    /// Errors: [`OutputError::Checkpoint`] when it cannot be read or has no version.
    pub(crate) fn read(&self) -> Result<Option<(u32, String)>, OutputError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.error(format!("cannot read it: {error}"))),
        };
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let versioned: Versioned = serde_json::from_str(&text)
            .map_err(|error| self.error(format!("not a checkpoint: {error}")))?;
        Ok(Some((versioned.version, text)))
    }

    /// Replaces the checkpoint atomically: a new temporary file beside it (exclusive, random
    /// name, mode 0600 or the replaced checkpoint's), fsynced, renamed over it, and the
    /// directory fsynced so the rename itself survives a crash.
    pub fn save(&self, position: &Position) -> Result<(), OutputError> {
        self.save_json(position)
    }

    /// [`Checkpoint::save`] for any serialisable state (an organization run's).
    pub(crate) fn save_json(&self, state: &impl Serialize) -> Result<(), OutputError> {
        let text = serde_json::to_vec(state).map_err(|e| self.error(e.to_string()))?;
        replace_atomically(&self.path, &text)
            .map_err(|error| self.error(format!("cannot write it: {error}")))
    }

    /// Removes the checkpoint (the collection is complete).
    pub fn remove(&self) -> Result<(), OutputError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => sync_directory(&self.path).map_err(|e| self.error(e.to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.error(format!("cannot remove it: {error}"))),
        }
    }

    pub(crate) fn error(&self, reason: String) -> OutputError {
        OutputError::Checkpoint {
            path: self.path.clone(),
            reason,
        }
    }

    pub(crate) fn mismatch(&self, reason: String) -> OutputError {
        OutputError::Mismatch {
            path: self.path.clone(),
            reason,
        }
    }
}

/// A new temporary file in `path`'s directory: `.<name>.<random>.tmp`, created exclusively
/// with mode 0600.
/// Replaces `path` with `bytes` atomically: a new temporary file beside it (exclusive, random
/// name, mode 0600 or the replaced file's), fsynced, renamed over it, and the directory fsynced
/// so the rename itself survives a crash.
pub(crate) fn replace_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = temporary_beside(path)?;
    file.write_all(bytes)?;
    keep_mode(path, file.as_file())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    sync_directory(path)
}

pub(crate) fn temporary_beside(path: &Path) -> std::io::Result<NamedTempFile> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(directory_of(path))
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

pub(crate) fn sync_directory(path: &Path) -> std::io::Result<()> {
    File::open(directory_of(path))?.sync_all()
}

/// Gives `replacement` the mode of the regular file at `path`, when there is one (a new file
/// keeps the 0600 of its creation).
pub(crate) fn keep_mode(path: &Path, replacement: &File) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(existing) if existing.is_file() => replacement.set_permissions(existing.permissions()),
        _ => Ok(()),
    }
}

/// Whether `a` and `b` name one file: the same inode when both exist, else the same path once
/// their directories are resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(first), Ok(second)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return first.dev() == second.dev() && first.ino() == second.ino();
        }
    }
    let resolved = |path: &Path| {
        let directory = std::fs::canonicalize(directory_of(path))
            .unwrap_or_else(|_| std::path::absolute(directory_of(path)).unwrap_or_default());
        directory.join(path.file_name().unwrap_or_default())
    };
    resolved(a) == resolved(b)
}

/// Opens the checkpointed output: created with mode 0600 if missing, never through a link.
pub(crate) fn open_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).read(true).write(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path).map_err(|error| {
        #[cfg(unix)]
        if error.raw_os_error() == Some(libc::ELOOP) {
            return std::io::Error::other(
                "it is a symbolic link; the harness writes no file through a link",
            );
        }
        error
    })
}

/// A writer that hashes what it writes.
pub struct Hashing<W> {
    pub(crate) inner: W,
    pub(crate) hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where the events of one collection go.
pub enum Destination<'a> {
    /// Standard output (no `--output`).
    Stdout(&'a mut dyn Write),
    /// `--output FILE` alone.
    Replace {
        /// The temporary file beside FILE.
        file: BufWriter<NamedTempFile>,
        /// FILE, replaced when the collection ends.
        path: PathBuf,
    },
    /// `--output FILE --checkpoint CP`.
    Checkpointed {
        /// FILE, appended to. Boxed: the hasher's state would make every `Destination` large.
        file: Box<BufWriter<Hashing<File>>>,
        /// FILE.
        path: PathBuf,
        /// CP.
        checkpoint: Checkpoint,
        /// What CP is bound to.
        binding: Binding,
        /// Events in FILE.
        events: u64,
        /// The last durable page: its cursor, FILE's length and digest then.
        durable: Durable,
    },
}

/// What the checkpoint records of the last durable page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durable {
    cursor: Option<String>,
    output_len: u64,
    output_sha256: String,
}

/// How a [`Destination`] starts: from the first page, or from a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The cursor to resume from; `None` starts a new collection.
    pub cursor: Option<String>,
    /// Events already in the output file from earlier runs.
    pub events: u64,
    /// `user.uid` of the events of the first page that an earlier run already pushed.
    pub pushed: Vec<String>,
}

impl<'a> Destination<'a> {
    /// Opens the output for `--output` and `--checkpoint` (with what this run collects).
    ///
    /// Errors: [`OutputError::SameFile`] when both name one file, [`OutputError::Create`]
    /// when a file cannot be created or opened (a checkpointed output that is a symbolic link
    /// included), [`OutputError::Checkpoint`] when the checkpoint is unreadable,
    /// [`OutputError::Mismatch`] when it was written for another output file, account,
    /// region or component, or the output file changed since.
    pub fn open(
        stdout: &'a mut dyn Write,
        output: Option<&Path>,
        checkpoint: Option<(&Path, Binding)>,
    ) -> Result<(Destination<'a>, Start), OutputError> {
        let fresh = Start {
            cursor: None,
            events: 0,
            pushed: Vec::new(),
        };
        let create_error = |path: &Path| {
            let path = path.to_owned();
            move |source| OutputError::Create { path, source }
        };
        match (output, checkpoint) {
            (None, _) => Ok((Destination::Stdout(stdout), fresh)),
            (Some(path), None) => {
                let file = temporary_beside(path).map_err(create_error(path))?;
                Ok((
                    Destination::Replace {
                        file: BufWriter::new(file),
                        path: path.to_owned(),
                    },
                    fresh,
                ))
            }
            (Some(path), Some((checkpoint_path, binding))) => {
                if same_file(path, checkpoint_path) {
                    return Err(OutputError::SameFile {
                        path: path.to_owned(),
                    });
                }
                let checkpoint = Checkpoint::new(checkpoint_path);
                let saved = checkpoint.load()?;
                if let Some(position) = &saved {
                    vouches_for(&checkpoint, position, path, &binding)?;
                }
                let mut file = open_no_follow(path).map_err(create_error(path))?;
                let mut hasher = Sha256::new();
                let start = match saved {
                    None => {
                        file.set_len(0).map_err(create_error(path))?;
                        fresh
                    }
                    Some(position) => {
                        let len = file.metadata().map_err(create_error(path))?.len();
                        if len < position.output_len {
                            return Err(checkpoint.mismatch(format!(
                                "{} has {len} bytes but the checkpoint recorded {}; it was changed since",
                                path.display(),
                                position.output_len
                            )));
                        }
                        std::io::copy(
                            &mut (&file).take(position.output_len),
                            &mut HashSink(&mut hasher),
                        )
                        .map_err(create_error(path))?;
                        if format!("{:x}", hasher.clone().finalize()) != position.output_sha256 {
                            return Err(checkpoint.mismatch(format!(
                                "the first {} bytes of {} are not the ones it recorded; the file was changed since",
                                position.output_len,
                                path.display()
                            )));
                        }
                        // Drop whatever a killed run wrote after its last durable page.
                        file.set_len(position.output_len)
                            .map_err(create_error(path))?;
                        Start {
                            cursor: position.cursor,
                            events: position.events,
                            pushed: position.pushed,
                        }
                    }
                };
                file.seek(SeekFrom::End(0)).map_err(create_error(path))?;
                let events = start.events;
                let durable = Durable {
                    cursor: start.cursor.clone(),
                    output_len: file.metadata().map_err(create_error(path))?.len(),
                    output_sha256: format!("{:x}", hasher.clone().finalize()),
                };
                Ok((
                    Destination::Checkpointed {
                        file: Box::new(BufWriter::new(Hashing {
                            inner: file,
                            hasher,
                        })),
                        path: path.to_owned(),
                        checkpoint,
                        binding,
                        events,
                        durable,
                    },
                    start,
                ))
            }
        }
    }

    /// The writer events go to.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Destination::Stdout(out) => *out,
            Destination::Replace { file, .. } => file,
            Destination::Checkpointed { file, .. } => file,
        }
    }

    /// Marks a page's `events` as written; `next` is the cursor after it. A checkpointed
    /// output makes the page durable, then records `next` (or removes the checkpoint when
    /// `next` is `None`).
    pub fn page_done(&mut self, events: u64, next: Option<&str>) -> Result<(), OutputError> {
        self.writer().flush().map_err(OutputError::Write)?;
        if let Destination::Checkpointed {
            file,
            path,
            checkpoint,
            binding,
            events: total,
            durable,
        } = self
        {
            *total += events;
            let inner = file.get_ref();
            inner.inner.sync_data().map_err(OutputError::Write)?;
            match next {
                Some(cursor) => {
                    let now = Durable {
                        cursor: Some(cursor.to_owned()),
                        output_len: inner.inner.metadata().map_err(OutputError::Write)?.len(),
                        output_sha256: format!("{:x}", inner.hasher.clone().finalize()),
                    };
                    checkpoint.save(&position(path, binding, *total, &now, Vec::new()))?;
                    *durable = now;
                }
                None => checkpoint.remove()?,
            }
        }
        Ok(())
    }

    /// Records that Sekoia accepted the events `pushed` (their `user.uid`) of the page being
    /// written: a checkpointed output saves them with the last durable page's position, so a
    /// resumed run writes the page again and pushes only the others. No-op otherwise.
    pub fn page_pushed(&mut self, pushed: &[String]) -> Result<(), OutputError> {
        if let Destination::Checkpointed {
            path,
            checkpoint,
            binding,
            events,
            durable,
            ..
        } = self
        {
            checkpoint.save(&position(path, binding, *events, durable, pushed.to_vec()))?;
        }
        Ok(())
    }

    /// Ends a successful collection: a replaced output is fsynced and renamed over FILE,
    /// keeping FILE's mode when it was a regular file (a new FILE is 0600).
    pub fn finish(self) -> Result<(), OutputError> {
        match self {
            Destination::Stdout(out) => out.flush().map_err(OutputError::Write),
            Destination::Replace { file, path } => {
                let file = file
                    .into_inner()
                    .map_err(|e| OutputError::Write(e.into_error()))?;
                file.as_file().sync_all().map_err(OutputError::Write)?;
                keep_mode(&path, file.as_file()).map_err(OutputError::Write)?;
                file.persist(&path)
                    .map_err(|error| OutputError::Write(error.error))?;
                sync_directory(&path).map_err(OutputError::Write)
            }
            Destination::Checkpointed { mut file, .. } => file.flush().map_err(OutputError::Write),
        }
    }

    /// Ends a failed collection: a replaced output's temporary file is removed, so FILE
    /// keeps its previous content. Returns what the user should know about FILE.
    pub fn abandon(self) -> Option<String> {
        match self {
            Destination::Stdout(out) => {
                let _ = out.flush();
                None
            }
            Destination::Replace { file, path } => {
                // Dropping the temporary file removes it.
                drop(file);
                Some(format!("{} was left unchanged", path.display()))
            }
            Destination::Checkpointed {
                mut file,
                path,
                checkpoint,
                events,
                ..
            } => {
                let _ = file.flush();
                Some(format!(
                    "{} holds {events} events; run the same command again to resume from {}",
                    path.display(),
                    checkpoint.path().display()
                ))
            }
        }
    }
}

impl crate::output::PageOutput for Destination<'_> {
    fn writer(&mut self) -> &mut dyn Write {
        Destination::writer(self)
    }

    fn page_done(&mut self, events: u64, next: Option<&str>) -> Result<(), OutputError> {
        Destination::page_done(self, events, next)
    }

    fn page_pushed(&mut self, pushed: &[String]) -> Result<(), OutputError> {
        Destination::page_pushed(self, pushed)
    }
}

fn position(
    path: &Path,
    binding: &Binding,
    events: u64,
    durable: &Durable,
    pushed: Vec<String>,
) -> Position {
    Position {
        version: VERSION,
        cursor: durable.cursor.clone(),
        output: path.to_owned(),
        output_len: durable.output_len,
        output_sha256: durable.output_sha256.clone(),
        events,
        pushed,
        binding: binding.clone(),
    }
}

/// Refuses a checkpoint written for another output file, account, region, component or push
/// URL.
fn vouches_for(
    checkpoint: &Checkpoint,
    position: &Position,
    path: &Path,
    binding: &Binding,
) -> Result<(), OutputError> {
    if position.output != path {
        return Err(checkpoint.mismatch(format!(
            "it belongs to --output {}, not {}",
            position.output.display(),
            path.display()
        )));
    }
    let saved = &position.binding;
    let differs = |what: &str, recorded: &str, now: &str| {
        Err(checkpoint.mismatch(format!(
            "it was written for {what} {recorded}, this run is for {what} {now}"
        )))
    };
    if saved.account != binding.account {
        return differs("account", &saved.account, &binding.account);
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
    if saved.sekoia != binding.sekoia {
        let name = |sekoia: &Option<String>| {
            sekoia.as_ref().map_or_else(
                || "no Sekoia push".to_owned(),
                |url| format!("a Sekoia push to {url}"),
            )
        };
        return Err(checkpoint.mismatch(format!(
            "it was written for {}, this run is for {}",
            name(&saved.sekoia),
            name(&binding.sekoia)
        )));
    }
    Ok(())
}

/// Feeds what is written into a hasher.
pub(crate) struct HashSink<'a>(pub(crate) &'a mut Sha256);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "aws-iam-users-checkpoint-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A stdout stand-in that lives for the whole test.
    fn sink() -> &'static mut dyn Write {
        Box::leak(Box::new(std::io::sink()))
    }

    fn binding() -> Binding {
        Binding {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            component_sha256: "c0ffee".into(),
            sekoia: None,
        }
    }

    fn write_page(output: &mut Destination, lines: &[&str], next: Option<&str>) {
        for line in lines {
            writeln!(output.writer(), "{line}").unwrap();
        }
        output.page_done(lines.len() as u64, next).unwrap();
    }

    #[test]
    fn a_failed_run_leaves_the_previous_file_untouched() {
        let dir = scratch("replace");
        let file = dir.join("users.ndjson");
        std::fs::write(&file, "old\n").unwrap();
        let (mut output, start) = Destination::open(sink(), Some(&file), None).unwrap();
        assert_eq!(
            start,
            Start {
                cursor: None,
                events: 0,
                pushed: Vec::new()
            }
        );
        write_page(&mut output, &["{\"a\":1}"], Some("c1"));
        assert_eq!(
            output.abandon().unwrap(),
            format!("{} was left unchanged", file.display())
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left behind"
        );

        let (mut output, _) = Destination::open(sink(), Some(&file), None).unwrap();
        write_page(&mut output, &["{\"a\":1}", "{\"a\":2}"], None);
        output.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpointed_run_resumes_after_its_last_durable_page() {
        let dir = scratch("resume");
        let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
        let (mut output, start) =
            Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        assert_eq!(start.cursor, None);
        write_page(&mut output, &["{\"u\":1}", "{\"u\":2}"], Some("after-2"));
        // A page half-written when the process dies: no page_done, so no checkpoint for it.
        write!(output.writer(), "{{\"u\":3}}\n{{\"u\"").unwrap();
        output.writer().flush().unwrap();
        drop(output);
        let saved = Checkpoint::new(&cp).load().unwrap().unwrap();
        assert_eq!(
            (
                saved.cursor.as_deref().unwrap(),
                saved.output_len,
                saved.events
            ),
            ("after-2", 16, 2)
        );

        let (mut output, start) =
            Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        assert_eq!(
            start,
            Start {
                cursor: Some("after-2".into()),
                events: 2,
                pushed: Vec::new()
            }
        );
        write_page(&mut output, &["{\"u\":3}"], None);
        output.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"u\":1}\n{\"u\":2}\n{\"u\":3}\n"
        );
        assert!(!cp.exists(), "a complete collection removes its checkpoint");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpoint_of_another_output_or_a_shortened_file_is_refused() {
        let dir = scratch("refuse");
        let (file, other, cp) = (dir.join("a.ndjson"), dir.join("b.ndjson"), dir.join("cp"));
        let (mut output, _) =
            Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        write_page(&mut output, &["{\"u\":1}"], Some("next"));
        drop(output);
        let error = Destination::open(sink(), Some(&other), Some((&cp, binding())))
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            format!(
                "checkpoint {}: it belongs to --output {}, not {}; remove it to start a new \
                 collection",
                cp.display(),
                file.display(),
                other.display()
            )
        );
        std::fs::write(&file, "").unwrap();
        let error = Destination::open(sink(), Some(&file), Some((&cp, binding())))
            .err()
            .unwrap();
        assert!(
            error.to_string().ends_with(
                "has 0 bytes but the checkpoint recorded 8; it was changed since; remove it to \
                 start a new collection"
            ),
            "{error}"
        );
        std::fs::write(&file, "{\"u\":9}\n").unwrap();
        let error = Destination::open(sink(), Some(&file), Some((&cp, binding())))
            .err()
            .unwrap();
        assert!(
            error.to_string().contains(
                "the first 8 bytes of {} are not the ones it recorded; the file was changed since"
                    .replace("{}", &file.display().to_string())
                    .as_str()
            ),
            "{error}"
        );
        std::fs::write(&cp, "{}").unwrap();
        assert!(
            Destination::open(sink(), Some(&file), Some((&cp, binding())))
                .err()
                .unwrap()
                .to_string()
                .contains("not a checkpoint")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpoint_of_another_account_region_or_component_is_refused() {
        let dir = scratch("binding");
        let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
        let (mut output, _) =
            Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        write_page(&mut output, &["{\"u\":1}"], Some("next"));
        drop(output);
        let refused = |binding: Binding| {
            Destination::open(sink(), Some(&file), Some((&cp, binding)))
                .err()
                .unwrap()
                .to_string()
        };
        let message = refused(Binding {
            account: "999988887777".into(),
            ..binding()
        });
        assert_eq!(
            message,
            format!(
                "checkpoint {}: it was written for account 111122223333, this run is for \
                 account 999988887777; remove it to start a new collection",
                cp.display()
            )
        );
        assert!(refused(Binding {
            region: "eu-west-1".into(),
            ..binding()
        })
        .contains("it was written for region us-east-1, this run is for region eu-west-1"));
        assert!(refused(Binding {
            component_sha256: "beef".into(),
            ..binding()
        })
        .contains(
            "the component with sha256 c0ffee, this run is for the component with sha256 beef"
        ));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"u\":1}\n",
            "untouched"
        );
        let (_, start) = Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        assert_eq!(start.cursor.as_deref(), Some("next"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pushed_events_of_an_unfinished_page_are_recorded_and_resumed() {
        let dir = scratch("pushed");
        let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
        let pushing = Binding {
            sekoia: Some("https://api.sekoia.io/api/v2/asset-management/asset-connector/u".into()),
            ..binding()
        };
        let (mut output, _) =
            Destination::open(sink(), Some(&file), Some((&cp, pushing.clone()))).unwrap();
        // The first page: written, two of its events pushed, then the run dies.
        writeln!(output.writer(), "{{\"u\":1}}\n{{\"u\":2}}\n{{\"u\":3}}").unwrap();
        output.page_pushed(&["u1".into(), "u2".into()]).unwrap();
        drop(output);
        let saved = Checkpoint::new(&cp).load().unwrap().unwrap();
        assert_eq!(
            (
                saved.version,
                saved.cursor.as_deref(),
                saved.output_len,
                saved.events
            ),
            (3, None, 0, 0)
        );
        assert_eq!(saved.pushed, ["u1", "u2"]);
        let text = std::fs::read_to_string(&cp).unwrap();
        assert!(text.contains("\"cursor\":null"), "{text}");

        let (mut output, start) =
            Destination::open(sink(), Some(&file), Some((&cp, pushing.clone()))).unwrap();
        assert_eq!(
            start,
            Start {
                cursor: None,
                events: 0,
                pushed: vec!["u1".into(), "u2".into()]
            }
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "",
            "the page is written again"
        );
        write_page(
            &mut output,
            &["{\"u\":1}", "{\"u\":2}", "{\"u\":3}"],
            Some("c1"),
        );
        // The second page: one event pushed; the position stays after the first page.
        writeln!(output.writer(), "{{\"u\":4}}").unwrap();
        output.page_pushed(&["u4".into()]).unwrap();
        drop(output);
        let saved = Checkpoint::new(&cp).load().unwrap().unwrap();
        assert_eq!(
            (saved.cursor.as_deref(), saved.output_len, saved.events),
            (Some("c1"), 24, 3)
        );
        assert_eq!(saved.pushed, ["u4"]);
        let (_, start) =
            Destination::open(sink(), Some(&file), Some((&cp, pushing.clone()))).unwrap();
        assert_eq!(start.pushed, ["u4"]);
        assert_eq!(start.cursor.as_deref(), Some("c1"));

        // Resuming without the push, or to another connector, is refused.
        let error = Destination::open(sink(), Some(&file), Some((&cp, binding())))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains(
                "it was written for a Sekoia push to https://api.sekoia.io/api/v2/asset-management/asset-connector/u, \
                 this run is for no Sekoia push"
            ),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_version_2_checkpoint_is_one_without_a_push() {
        let dir = scratch("v2");
        let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
        std::fs::write(&file, "{\"u\":1}\n").unwrap();
        let sha = format!("{:x}", Sha256::digest(b"{\"u\":1}\n"));
        std::fs::write(
            &cp,
            format!(
                "{{\"version\":2,\"cursor\":\"next\",\"output\":{:?},\"output_len\":8,\
                 \"output_sha256\":\"{sha}\",\"events\":1,\"account\":\"111122223333\",\
                 \"region\":\"us-east-1\",\"component_sha256\":\"c0ffee\"}}",
                file.to_str().unwrap()
            ),
        )
        .unwrap();
        let (_, start) = Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        assert_eq!(start.cursor.as_deref(), Some("next"));
        let pushing = Binding {
            sekoia: Some("https://x/".into()),
            ..binding()
        };
        assert!(Destination::open(sink(), Some(&file), Some((&cp, pushing)))
            .err()
            .unwrap()
            .to_string()
            .contains("it was written for no Sekoia push"));
        std::fs::write(&cp, "{\"version\":1}").unwrap();
        assert!(
            Destination::open(sink(), Some(&file), Some((&cp, binding())))
                .err()
                .unwrap()
                .to_string()
                .contains("version 1 is not supported")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn output_and_checkpoint_on_one_file_is_refused() {
        let dir = scratch("same");
        let file = dir.join("x");
        let error = Destination::open(sink(), Some(&file), Some((&file, binding())))
            .err()
            .unwrap();
        assert!(matches!(error, OutputError::SameFile { .. }), "{error}");
        let dotted = dir.join(".").join("x");
        assert!(same_file(&file, &dotted));
        std::fs::write(&file, "").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(same_file(&file, &link));
        assert!(!same_file(&file, &dir.join("y")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn modes_are_kept_or_private_and_links_are_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("modes");
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let existing = dir.join("existing.ndjson");
        std::fs::write(&existing, "old\n").unwrap();
        std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).unwrap();
        let (mut output, _) = Destination::open(sink(), Some(&existing), None).unwrap();
        write_page(&mut output, &["{}"], None);
        output.finish().unwrap();
        assert_eq!(mode(&existing), 0o640);
        let new = dir.join("new.ndjson");
        let (output, _) = Destination::open(sink(), Some(&new), None).unwrap();
        output.finish().unwrap();
        assert_eq!(mode(&new), 0o600);
        let (file, cp) = (dir.join("cp.ndjson"), dir.join("cp"));
        let (mut output, _) =
            Destination::open(sink(), Some(&file), Some((&cp, binding()))).unwrap();
        write_page(&mut output, &["{}"], Some("next"));
        drop(output);
        assert_eq!((mode(&file), mode(&cp)), (0o600, 0o600));

        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = dir.join("link.ndjson");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let error = Destination::open(sink(), Some(&link), Some((&dir.join("cp2"), binding())))
            .err()
            .unwrap();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        // Replacing: the link itself is replaced, its target untouched.
        let (mut output, _) = Destination::open(sink(), Some(&link), None).unwrap();
        write_page(&mut output, &["{}"], None);
        output.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
