//! The on-disk cache of the compiled component: wasmtime's own (`wasmtime::Cache`), keyed by
//! the component's bytes, the wasmtime version and the engine's settings, so a run after the
//! first loads native code instead of compiling a megabyte of wasm with Cranelift again.
//!
//! Loading cached code runs it: whoever can write the directory can run code as this user.
//! The directory is therefore created `0700`, and used only when this user owns it and no
//! one else may write it (as OpenSSH treats `~/.ssh`); otherwise the run compiles, with a
//! warning. `--no-compile-cache` compiles every run.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use wasmtime::{Cache, CacheConfig};

/// Where the cache lives unless `--compile-cache` says: `$XDG_CACHE_HOME/aws-iam-users`,
/// else `$HOME/.cache/aws-iam-users` (absolute paths only, as the XDG spec asks); `None`
/// when neither is set.
pub fn default_directory(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("aws-iam-users"))
}

/// Opens the cache in `directory`, creating it (mode `0700`, parents as needed) when absent.
///
/// Errors (a sentence; the caller compiles without a cache): the path is relative, not a
/// directory, cannot be created, is owned by another user, or is writable by group or
/// others; wasmtime refuses the configuration.
pub fn open(directory: &Path) -> Result<Cache, String> {
    if !directory.is_absolute() {
        return Err(format!(
            "the compile cache {} is not an absolute path",
            directory.display()
        ));
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(directory)
        .map_err(|e| {
            format!(
                "cannot create the compile cache {}: {e}",
                directory.display()
            )
        })?;
    let meta = std::fs::symlink_metadata(directory)
        .map_err(|e| format!("cannot read the compile cache {}: {e}", directory.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "the compile cache {} is not a directory",
            directory.display()
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "the compile cache {} belongs to uid {}, not to this user (uid {me}): not used",
            directory.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "the compile cache {} is writable by others (mode {:o}): not used; chmod 700 it",
            directory.display(),
            meta.mode() & 0o777
        ));
    }
    let mut config = CacheConfig::new();
    config.with_directory(directory);
    Cache::new(config).map_err(|e| {
        format!(
            "the compile cache {} cannot be used: {e:#}",
            directory.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_default_directory_follows_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert_eq!(
            default_directory(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/aws-iam-users"))
        );
        assert_eq!(
            default_directory(env(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/aws-iam-users"))
        );
        assert_eq!(default_directory(env(&[])), None);
    }

    #[test]
    fn a_new_directory_is_private_and_an_open_one_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/cache");
        open(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = open(&dir).unwrap_err();
        assert!(
            refused.contains("writable by others (mode 777)"),
            "{refused}"
        );
        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(open(&file).unwrap_err().contains("cannot create"));
        assert!(open(Path::new("relative"))
            .unwrap_err()
            .contains("not an absolute path"));
    }
}
