//! Crash-safe output: where events go, and how a killed run resumes without losing or
//! doubling a user.
//!
//! - [`Output::Stdout`]: events stream to standard output.
//! - [`Output::Replace`]: `--output FILE` alone. Events go to a temporary file beside FILE,
//!   renamed over FILE only when the collection ends, so a failed run leaves the previous
//!   FILE untouched.
//! - [`Output::Checkpointed`]: `--output FILE --checkpoint CP`. After each page the events
//!   are flushed and fsynced to FILE, then CP is replaced atomically (write, fsync, rename)
//!   with the next cursor and FILE's length. Re-running the same command truncates FILE to
//!   that length (dropping a page half-written when the run died), appends from the cursor,
//!   and removes CP when the collection ends.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::OutputError;

/// What a checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Format version of this file.
    pub version: u32,
    /// The cursor the component returned after the last durable page.
    pub cursor: String,
    /// The output file this checkpoint belongs to (as given on the command line).
    pub output: PathBuf,
    /// The output file's length in bytes when the page was durable.
    pub output_len: u64,
    /// Events in the output file up to that length.
    pub events: u64,
}

/// The checkpoint format version.
const VERSION: u32 = 1;

/// A checkpoint file.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
}

impl Checkpoint {
    pub fn new(path: &Path) -> Self {
        Checkpoint {
            path: path.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved position, or `None` when there is no checkpoint file.
    ///
    /// Errors: [`OutputError::Checkpoint`] when it cannot be read or is not a checkpoint
    /// of this version.
    pub fn load(&self) -> Result<Option<Position>, OutputError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.error(format!("cannot read it: {error}"))),
        };
        let position: Position = serde_json::from_str(&text)
            .map_err(|error| self.error(format!("not a checkpoint: {error}")))?;
        if position.version != VERSION {
            return Err(self.error(format!("version {} is not supported", position.version)));
        }
        Ok(Some(position))
    }

    /// Replaces the checkpoint atomically: a temporary file beside it, fsynced, renamed over
    /// it, and the directory fsynced so the rename itself survives a crash.
    pub fn save(&self, position: &Position) -> Result<(), OutputError> {
        let text = serde_json::to_vec(position).map_err(|e| self.error(e.to_string()))?;
        let temporary = sibling(&self.path, "tmp");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            sync_directory(&self.path)
        };
        write().map_err(|error| self.error(format!("cannot write it: {error}")))
    }

    /// Removes the checkpoint (the collection is complete).
    pub fn remove(&self) -> Result<(), OutputError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => sync_directory(&self.path).map_err(|e| self.error(e.to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.error(format!("cannot remove it: {error}"))),
        }
    }

    fn error(&self, reason: String) -> OutputError {
        OutputError::Checkpoint {
            path: self.path.clone(),
            reason,
        }
    }
}

/// `path` with `.{suffix}` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}

fn sync_directory(path: &Path) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()
}

/// Where the events of one collection go.
pub enum Output<'a> {
    Stdout(&'a mut dyn Write),
    Replace {
        file: BufWriter<File>,
        temporary: PathBuf,
        path: PathBuf,
    },
    Checkpointed {
        file: BufWriter<File>,
        path: PathBuf,
        checkpoint: Checkpoint,
        events: u64,
    },
}

/// How an [`Output`] starts: from the first page, or from a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The cursor to resume from; `None` starts a new collection.
    pub cursor: Option<String>,
    /// Events already in the output file from earlier runs.
    pub events: u64,
}

impl<'a> Output<'a> {
    /// Opens the output for `--output` and `--checkpoint`.
    ///
    /// Errors: [`OutputError::Create`] when a file cannot be created or opened,
    /// [`OutputError::Checkpoint`] when the checkpoint is unreadable, belongs to another
    /// output file, or records more bytes than the output file has.
    pub fn open(
        stdout: &'a mut dyn Write,
        output: Option<&Path>,
        checkpoint: Option<&Path>,
    ) -> Result<(Output<'a>, Start), OutputError> {
        let fresh = Start {
            cursor: None,
            events: 0,
        };
        let create_error = |path: &Path| {
            let path = path.to_owned();
            move |source| OutputError::Create { path, source }
        };
        match (output, checkpoint) {
            (None, _) => Ok((Output::Stdout(stdout), fresh)),
            (Some(path), None) => {
                let temporary = sibling(path, &format!("partial-{}", std::process::id()));
                let file = File::create(&temporary).map_err(create_error(&temporary))?;
                Ok((
                    Output::Replace {
                        file: BufWriter::new(file),
                        temporary,
                        path: path.to_owned(),
                    },
                    fresh,
                ))
            }
            (Some(path), Some(checkpoint_path)) => {
                let checkpoint = Checkpoint::new(checkpoint_path);
                let saved = checkpoint.load()?;
                let mut file = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(false)
                    .open(path)
                    .map_err(create_error(path))?;
                let start = match saved {
                    None => {
                        file.set_len(0).map_err(create_error(path))?;
                        fresh
                    }
                    Some(position) => {
                        if position.output != path {
                            return Err(checkpoint.error(format!(
                                "it belongs to --output {}, not {}",
                                position.output.display(),
                                path.display()
                            )));
                        }
                        let len = file.metadata().map_err(create_error(path))?.len();
                        if len < position.output_len {
                            return Err(checkpoint.error(format!(
                                "{} has {len} bytes but the checkpoint recorded {}; it was changed since",
                                path.display(),
                                position.output_len
                            )));
                        }
                        // Drop whatever a killed run wrote after its last durable page.
                        file.set_len(position.output_len)
                            .map_err(create_error(path))?;
                        Start {
                            cursor: Some(position.cursor),
                            events: position.events,
                        }
                    }
                };
                file.seek(SeekFrom::End(0)).map_err(create_error(path))?;
                let events = start.events;
                Ok((
                    Output::Checkpointed {
                        file: BufWriter::new(file),
                        path: path.to_owned(),
                        checkpoint,
                        events,
                    },
                    start,
                ))
            }
        }
    }

    /// The writer events go to.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(out) => *out,
            Output::Replace { file, .. } | Output::Checkpointed { file, .. } => file,
        }
    }

    /// Marks a page's `events` as written; `next` is the cursor after it. A checkpointed
    /// output makes the page durable, then records `next` (or removes the checkpoint when
    /// `next` is `None`).
    pub fn page_done(&mut self, events: u64, next: Option<&str>) -> Result<(), OutputError> {
        self.writer().flush().map_err(OutputError::Write)?;
        if let Output::Checkpointed {
            file,
            path,
            checkpoint,
            events: total,
        } = self
        {
            *total += events;
            let inner = file.get_ref();
            inner.sync_data().map_err(OutputError::Write)?;
            match next {
                Some(cursor) => checkpoint.save(&Position {
                    version: VERSION,
                    cursor: cursor.to_owned(),
                    output: path.clone(),
                    output_len: inner.metadata().map_err(OutputError::Write)?.len(),
                    events: *total,
                })?,
                None => checkpoint.remove()?,
            }
        }
        Ok(())
    }

    /// Ends a successful collection: a replaced output is fsynced and renamed over FILE.
    pub fn finish(self) -> Result<(), OutputError> {
        match self {
            Output::Stdout(out) => out.flush().map_err(OutputError::Write),
            Output::Replace {
                file,
                temporary,
                path,
            } => {
                let file = file
                    .into_inner()
                    .map_err(|e| OutputError::Write(e.into_error()))?;
                file.sync_all().map_err(OutputError::Write)?;
                std::fs::rename(&temporary, &path).map_err(OutputError::Write)?;
                sync_directory(&path).map_err(OutputError::Write)
            }
            Output::Checkpointed { mut file, .. } => file.flush().map_err(OutputError::Write),
        }
    }

    /// Ends a failed collection: a replaced output's temporary file is removed, so FILE
    /// keeps its previous content. Returns what the user should know about FILE.
    pub fn abandon(self) -> Option<String> {
        match self {
            Output::Stdout(out) => {
                let _ = out.flush();
                None
            }
            Output::Replace {
                file,
                temporary,
                path,
            } => {
                drop(file);
                let _ = std::fs::remove_file(&temporary);
                Some(format!("{} was left unchanged", path.display()))
            }
            Output::Checkpointed {
                mut file,
                path,
                checkpoint,
                events,
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

    fn write_page(output: &mut Output, lines: &[&str], next: Option<&str>) {
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
        let (mut output, start) = Output::open(sink(), Some(&file), None).unwrap();
        assert_eq!(
            start,
            Start {
                cursor: None,
                events: 0
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

        let (mut output, _) = Output::open(sink(), Some(&file), None).unwrap();
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
        let (mut output, start) = Output::open(sink(), Some(&file), Some(&cp)).unwrap();
        assert_eq!(start.cursor, None);
        write_page(&mut output, &["{\"u\":1}", "{\"u\":2}"], Some("after-2"));
        // A page half-written when the process dies: no page_done, so no checkpoint for it.
        write!(output.writer(), "{{\"u\":3}}\n{{\"u\"").unwrap();
        output.writer().flush().unwrap();
        drop(output);
        let saved = Checkpoint::new(&cp).load().unwrap().unwrap();
        assert_eq!(
            (saved.cursor.as_str(), saved.output_len, saved.events),
            ("after-2", 16, 2)
        );

        let (mut output, start) = Output::open(sink(), Some(&file), Some(&cp)).unwrap();
        assert_eq!(
            start,
            Start {
                cursor: Some("after-2".into()),
                events: 2
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
        let (mut output, _) = Output::open(sink(), Some(&file), Some(&cp)).unwrap();
        write_page(&mut output, &["{\"u\":1}"], Some("next"));
        drop(output);
        let error = Output::open(sink(), Some(&other), Some(&cp)).err().unwrap();
        assert_eq!(
            error.to_string(),
            format!(
                "checkpoint {}: it belongs to --output {}, not {}",
                cp.display(),
                file.display(),
                other.display()
            )
        );
        std::fs::write(&file, "").unwrap();
        let error = Output::open(sink(), Some(&file), Some(&cp)).err().unwrap();
        assert!(
            error
                .to_string()
                .ends_with("has 0 bytes but the checkpoint recorded 8; it was changed since"),
            "{error}"
        );
        std::fs::write(&cp, "{}").unwrap();
        assert!(Output::open(sink(), Some(&file), Some(&cp))
            .err()
            .unwrap()
            .to_string()
            .contains("not a checkpoint"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
