//! Which files verify walks: those given, in that order; or, for one PATH alone, the rotated
//! set beside it, oldest first (PATH.N ... PATH.1 PATH), noticing a number missing in the middle.

use std::path::{Path, PathBuf};

/// The files to walk, and (when a rotated file is missing) why the set is cut.
#[derive(Debug, PartialEq, Eq)]
pub struct Set {
    pub files: Vec<PathBuf>,
    pub missing: Option<String>,
}

pub fn resolve(given: &[PathBuf]) -> Set {
    let [path] = given else {
        return Set {
            files: given.to_vec(),
            missing: None,
        };
    };
    let numbered = |n: u64| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    };
    let mut n = 1;
    while numbered(n).symlink_metadata().is_ok() {
        n += 1;
    }
    // PATH.1 ... PATH.(n-1) are there; PATH.n is not. One further up means PATH.n is lost.
    let missing = highest_number(path).filter(|&m| m > n).map(|m| {
        format!(
            "{} is missing: {} is there (the file before {} is missing)",
            shown(&numbered(n)),
            shown(&numbered(m)),
            shown(&if n == 1 {
                path.clone()
            } else {
                numbered(n - 1)
            })
        )
    });
    let mut files: Vec<PathBuf> = (1..n).rev().map(numbered).collect();
    files.push(path.clone());
    Set { files, missing }
}

/// The highest N of the files PATH.N beside `path` (decimal, no leading zero).
fn highest_number(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let name = path.file_name()?.as_bytes();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let entry = entry.file_name();
            let digits = entry.as_bytes().strip_prefix(name)?.strip_prefix(b".")?;
            let number = std::str::from_utf8(digits).ok()?;
            (!number.starts_with('0') && number.bytes().all(|b| b.is_ascii_digit()))
                .then(|| number.parse().ok())
                .flatten()
        })
        .max()
}

/// A path as a verdict names it: as given, control characters escaped.
pub fn shown(path: &Path) -> String {
    let quoted = crate::error::quote(path);
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_path_brings_its_rotated_files_oldest_first_and_a_hole_is_seen() {
        let dir = std::env::temp_dir().join(format!("teelog-verify-set-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("run.jsonl");
        for name in [
            "run.jsonl",
            "run.jsonl.1",
            "run.jsonl.2",
            "run.jsonl.gz",
            "run.jsonl.07",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let set = resolve(std::slice::from_ref(&log));
        let names: Vec<String> = set
            .files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["run.jsonl.2", "run.jsonl.1", "run.jsonl"]);
        assert_eq!(set.missing, None);
        std::fs::write(dir.join("run.jsonl.4"), "").unwrap();
        let set = resolve(std::slice::from_ref(&log));
        assert_eq!(set.files.len(), 3);
        let why = set.missing.unwrap();
        assert!(
            why.starts_with(&format!(
                "{}.3 is missing: {}.4 is there",
                log.display(),
                log.display()
            )),
            "{why}"
        );
        // Files given are taken as given.
        let given = [log.clone(), dir.join("run.jsonl.1")];
        assert_eq!(resolve(&given).files, given);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
