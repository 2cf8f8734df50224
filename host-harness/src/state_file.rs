//! `collect --state FILE`: the run-state a complete collection returned, kept for the next run
//! of the same account.
//!
//! The file is JSON: `{"format":1,"account":"…","component_version":"…","written_ms":…,
//! "run_state":"…"}`. `run_state` is the component's, opaque here (the aws-iam-users
//! component's: the access keys and signing certificates it listed, reused where the
//! credential report shows them unchanged). The host hands it back to every `collect` call of
//! the next run when the file was written for the same account (STS GetCallerIdentity) and
//! the same component version; otherwise, and when the file is unreadable or over
//! [`MAX_STATE_FILE_BYTES`], it warns and starts without (the run lists everything, as a
//! first run does). A missing file is a first run. It is replaced atomically (a temporary file
//! beside it, mode 0600, fsynced, renamed) only after a collection completed: a failed or
//! interrupted run leaves the previous state in place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::replace_atomically;
use crate::sandbox::limits::MAX_RUN_STATE_BYTES;

/// The state file's format version.
const FORMAT: u32 = 1;
/// Largest state file read: the largest run-state plus its JSON escaping and fields.
pub const MAX_STATE_FILE_BYTES: u64 = 2 * MAX_RUN_STATE_BYTES as u64 + 4096;

/// Whom a state file was written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateBinding {
    /// The 12-digit AWS account (STS GetCallerIdentity).
    pub account: String,
    /// The component's `version` export.
    pub component_version: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    format: u32,
    account: String,
    component_version: String,
    /// When it was written, ms since the Unix epoch.
    written_ms: u64,
    run_state: String,
}

/// A `--state` file.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state file at `path` (not read yet).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    /// The run-state to hand the component, if the file vouches for `binding`; the second
    /// value is a warning to log when a file exists but is not used.
    pub fn load(&self, binding: &StateBinding) -> (Option<String>, Option<String>) {
        let ignored = |why: String| {
            (
                None,
                Some(format!(
                    "state {}: {why}; this run lists every credential",
                    self.path.display()
                )),
            )
        };
        let size = match std::fs::metadata(&self.path) {
            Ok(metadata) => metadata.len(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (None, None),
            Err(error) => return ignored(format!("cannot read it ({error})")),
        };
        if size > MAX_STATE_FILE_BYTES {
            return ignored(format!(
                "{size} bytes, more than the {MAX_STATE_FILE_BYTES} a state may have"
            ));
        }
        let wire: Wire = match std::fs::read(&self.path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|error| error.to_string()))
        {
            Ok(wire) => wire,
            Err(error) => return ignored(format!("unreadable ({error})")),
        };
        if wire.format != FORMAT {
            return ignored(format!("format {} is not supported", wire.format));
        }
        if wire.account != binding.account {
            return ignored(format!(
                "written for account {}, this run is for account {}",
                crate::escape::truncate(&wire.account, 64),
                binding.account
            ));
        }
        if wire.component_version != binding.component_version {
            return ignored(format!(
                "written by component {}, this run's is {}",
                crate::escape::truncate(&wire.component_version, 64),
                binding.component_version
            ));
        }
        (Some(wire.run_state), None)
    }

    /// Replaces the file atomically with `run_state` for `binding`.
    ///
    /// Errors: the message of the I/O failure (the previous file is left as it was).
    pub fn save(&self, binding: &StateBinding, run_state: String) -> Result<(), String> {
        let written_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let text = serde_json::to_vec(&Wire {
            format: FORMAT,
            account: binding.account.clone(),
            component_version: binding.component_version.clone(),
            written_ms,
            run_state,
        })
        .map_err(|error| error.to_string())?;
        replace_atomically(&self.path, &text)
            .map_err(|error| format!("state {}: cannot write it: {error}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> StateBinding {
        StateBinding {
            account: "111122223333".into(),
            component_version: "0.2.0".into(),
        }
    }

    #[test]
    fn a_saved_state_is_read_back_for_its_account_and_version_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(&dir.path().join("state.json"));
        assert_eq!(file.load(&binding()), (None, None), "no file: a first run");
        file.save(&binding(), "{\"opaque\":true}".into()).unwrap();
        assert_eq!(
            file.load(&binding()),
            (Some("{\"opaque\":true}".into()), None)
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("state.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let other = StateBinding {
            account: "999988887777".into(),
            ..binding()
        };
        let (state, warning) = file.load(&other);
        assert_eq!(state, None);
        assert!(warning.unwrap().ends_with(
            "written for account 111122223333, this run is for account 999988887777; \
                 this run lists every credential"
        ));
        let newer = StateBinding {
            component_version: "0.2.1".into(),
            ..binding()
        };
        let (state, warning) = file.load(&newer);
        assert_eq!(state, None);
        assert!(warning
            .unwrap()
            .contains("written by component 0.2.0, this run's is 0.2.1"));
    }

    #[test]
    fn an_unreadable_or_oversized_file_is_ignored_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "not json").unwrap();
        let (state, warning) = StateFile::new(&path).load(&binding());
        assert_eq!(state, None);
        assert!(warning.unwrap().contains("unreadable"));
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_STATE_FILE_BYTES + 1).unwrap();
        let (state, warning) = StateFile::new(&path).load(&binding());
        assert_eq!(state, None);
        assert!(warning.unwrap().contains("more than the"));
    }
}
