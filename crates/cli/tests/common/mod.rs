//! Shared by the command-line tests.

use std::process::Command;

/// Run the `neuroxide` binary: (exit code, stdout, stderr).
pub fn neuroxide(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_neuroxide"))
        .args(args)
        .output()
        .expect("run neuroxide");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
