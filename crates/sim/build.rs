//! Records the git commit of the build (if built from a git checkout) for run summaries.
use std::process::Command;

fn main() {
    let out = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output();
    if let Ok(o) = out
        && o.status.success()
    {
        let mut commit = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        if dirty {
            commit.push_str("-dirty");
        }
        println!("cargo:rustc-env=SNNSIM_COMMIT={commit}");
    }
    for p in ["../../.git/HEAD", "../../.git/index"] {
        println!("cargo:rerun-if-changed={p}");
    }
}
