// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Writing a [`Plan`] all or nothing.
//!
//! Every file is first written under a temporary name in its final directory, and only when
//! all of them are written are they renamed into place. On failure the temporary files, and
//! the directories this run created, are removed. Two planned files that resolve to the same
//! path (the output directory may contain directory symlinks such as Debian's
//! `nvidia/ga103/gsp -> ../ga102/gsp`) must have the same contents and are written once.
//! With symlinks enabled, the chips that share a GSP-RM image get a relative symlink to the
//! first chip's `gsp.bin` (as Debian and linux-firmware do) instead of a 30-60 MiB copy.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use crate::error::Error;
use crate::plan::{Content, Plan};

/// What was done for one planned file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// A regular file was written.
    File {
        /// Its path (as planned, under the output directory).
        path: PathBuf,
        /// Its size.
        size: usize,
    },
    /// A symbolic link was written.
    Link {
        /// Its path (as planned, under the output directory).
        path: PathBuf,
        /// The link's (relative) target.
        target: PathBuf,
    },
    /// The path resolves to a file written for another chip, with the same contents.
    Shared {
        /// Its path (as planned, under the output directory).
        path: PathBuf,
        /// The planned path it resolves to.
        same_as: PathBuf,
    },
}

/// How one file is written.
enum Action<'a> {
    File(&'a [u8]),
    Link(PathBuf),
}

/// One file waiting to be renamed into place.
struct Staged {
    temp: PathBuf,
    target: PathBuf,
}

/// Returns the path from directory `from` to `to`, both absolute and free of symlinks.
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in from.iter().skip(common) {
        path.push("..");
    }
    for c in to.iter().skip(common) {
        path.push(c.as_os_str());
    }
    path
}

/// Creates `dir` and its missing parents, recording the ones created.
fn ensure_dir(dir: &Path, created: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() {
            break;
        }
        match fs::metadata(d) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(Error::BadOutput {
                    path: d.to_path_buf(),
                    reason: "exists and is not a directory".to_string(),
                })
            }
            // Not found, or a parent is not a directory (reported when the walk reaches it).
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                missing.push(d.to_path_buf())
            }
            Err(e) => return Err(Error::io(d, "open", e)),
        }
        cur = d.parent();
    }
    for d in missing.into_iter().rev() {
        match fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&d, "create directory", e)),
        }
    }
    Ok(())
}

/// Removes temporary files and the directories this run created (if they are empty).
fn clean_up(staged: &[Staged], created: &[PathBuf]) {
    for s in staged {
        let _ = fs::remove_file(&s.temp);
    }
    for d in created.iter().rev() {
        let _ = fs::remove_dir(d);
    }
}

/// Writes `data` to a new file at `path`, flushed to disk.
fn write_new(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Writes every file of `plan` under `out_dir`, all or nothing.
pub fn write(out_dir: &Path, plan: &Plan, symlinks: bool) -> Result<Vec<Written>, Error> {
    let mut created = Vec::new();
    let result = stage_and_install(out_dir, plan, symlinks, &mut created);
    if result.is_err() {
        clean_up(&[], &created);
    }
    result
}

fn stage_and_install(
    out_dir: &Path,
    plan: &Plan,
    symlinks: bool,
    created: &mut Vec<PathBuf>,
) -> Result<Vec<Written>, Error> {
    // Resolve where every file really goes, and decide how to write it.
    let mut by_real_path: HashMap<PathBuf, usize> = HashMap::new();
    let mut image_primary: HashMap<*const crate::plan::GspImage, PathBuf> = HashMap::new();
    let mut actions: Vec<(usize, PathBuf, Action<'_>)> = Vec::new();
    let mut written: Vec<(usize, Written)> = Vec::new();
    for (index, item) in plan.iter().enumerate() {
        let planned_path = out_dir.join(&item.rel_path);
        let (parent, name) = match (planned_path.parent(), planned_path.file_name()) {
            (Some(p), Some(n)) => (p.to_path_buf(), n.to_os_string()),
            _ => {
                return Err(Error::BadOutput {
                    path: planned_path,
                    reason: "not a file path".to_string(),
                })
            }
        };
        ensure_dir(&parent, created)?;
        let real_dir = fs::canonicalize(&parent).map_err(|e| Error::io(&parent, "resolve", e))?;
        let real_path = real_dir.join(&name);

        if let Some(&first) = by_real_path.get(&real_path) {
            let other = plan.get(first).ok_or_else(|| Error::BadOutput {
                path: planned_path.clone(),
                reason: "internal error: lost planned file".to_string(),
            })?;
            if !item.content.same_as(&other.content) {
                return Err(Error::BadOutput {
                    path: planned_path,
                    reason: format!(
                        "it resolves to {}, which {} needs with different contents \
                         (directory symlinks in the output directory?)",
                        real_path.display(),
                        other.chip
                    ),
                });
            }
            written.push((
                index,
                Written::Shared {
                    path: item.rel_path.clone(),
                    same_as: other.rel_path.clone(),
                },
            ));
            continue;
        }
        // A directory in the way would only be found when renaming, after other files
        // were installed.
        if fs::symlink_metadata(&real_path).is_ok_and(|m| m.is_dir()) {
            return Err(Error::BadOutput {
                path: planned_path,
                reason: "a directory is in the way".to_string(),
            });
        }
        by_real_path.insert(real_path.clone(), index);

        let action = match &item.content {
            Content::Image(image) if symlinks => {
                let key = Rc::as_ptr(image);
                match image_primary.get(&key) {
                    Some(primary) => Action::Link(relative_path(&real_dir, primary)),
                    None => {
                        image_primary.insert(key, real_path.clone());
                        Action::File(item.content.bytes())
                    }
                }
            }
            content => Action::File(content.bytes()),
        };
        actions.push((index, real_path, action));
    }

    // Write everything under temporary names.
    let pid = std::process::id();
    let mut staged: Vec<Staged> = Vec::new();
    for (_, real_path, action) in &actions {
        let name = real_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = real_path.with_file_name(format!(".{name}.nova-tlv-{pid}.tmp"));
        let _ = fs::remove_file(&temp);
        let result = match action {
            Action::File(data) => write_new(&temp, data),
            Action::Link(target) => std::os::unix::fs::symlink(target, &temp),
        };
        if let Err(e) = result {
            // Remove a partially written temporary file too.
            let _ = fs::remove_file(&temp);
            clean_up(&staged, &[]);
            return Err(Error::io(&temp, "write", e));
        }
        staged.push(Staged {
            temp,
            target: real_path.clone(),
        });
    }

    // Install them.
    for (done, s) in staged.iter().enumerate() {
        if let Err(e) = fs::rename(&s.temp, &s.target) {
            clean_up(staged.get(done..).unwrap_or(&[]), &[]);
            return Err(Error::BadOutput {
                path: s.target.clone(),
                reason: format!(
                    "renaming {} failed ({e}); {done} file(s) were already installed",
                    s.temp.display()
                ),
            });
        }
    }

    for (index, _, action) in &actions {
        let Some(item) = plan.get(*index) else {
            continue;
        };
        let what = match action {
            Action::File(data) => Written::File {
                path: item.rel_path.clone(),
                size: data.len(),
            },
            Action::Link(target) => Written::Link {
                path: item.rel_path.clone(),
                target: target.clone(),
            },
        };
        written.push((*index, what));
    }
    written.sort_by_key(|(index, _)| *index);
    Ok(written.into_iter().map(|(_, w)| w).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(
                Path::new("/out/nvidia/ga103/gsp"),
                Path::new("/out/nvidia/ga102/gsp/gsp.bin")
            ),
            PathBuf::from("../../ga102/gsp/gsp.bin")
        );
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a/b/c")),
            PathBuf::from("c")
        );
        assert_eq!(
            relative_path(Path::new("/x/y"), Path::new("/z")),
            PathBuf::from("../../z")
        );
    }
}
