//! Embeds every `<id>/manifest.toml` next to this crate's `Cargo.toml`,
//! with its `packages.txt` and the files in its `selftest/` folder, as
//! `include_str!` items in `$OUT_DIR/embedded.rs`.
//!
//! A missing `packages.txt` becomes `None` so that the crate's validation
//! reports it by name instead of failing the build with a bare I/O error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    // A directory makes cargo rerun this script when any file under it
    // changes, which covers edited files and newly added language folders.
    println!("cargo:rerun-if-changed={}", root.display());

    let mut pack_dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", root.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.join("manifest.toml").is_file())
        .collect();
    pack_dirs.sort();

    let mut code = String::from("pub(crate) static EMBEDDED: &[EmbeddedPack] = &[\n");
    for dir in &pack_dirs {
        write_pack(&mut code, dir);
    }
    code.push_str("];\n");

    let target = out_dir.join("embedded.rs");
    fs::write(&target, code)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", target.display()));
}

fn write_pack(code: &mut String, dir: &Path) {
    let name = dir
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_else(|| panic!("langpack folder name is not UTF-8: {}", dir.display()));
    let packages = dir.join("packages.txt");
    let packages = if packages.is_file() {
        format!("Some(include_str!({:?}))", path_str(&packages))
    } else {
        "None".to_owned()
    };

    let mut self_test_files: Vec<PathBuf> = match fs::read_dir(dir.join("selftest")) {
        Ok(entries) => entries
            .map(|entry| entry.expect("readable directory entry").path())
            .filter(|path| path.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    self_test_files.sort();

    writeln!(code, "    EmbeddedPack {{").unwrap();
    writeln!(code, "        dir: {name:?},").unwrap();
    writeln!(
        code,
        "        manifest: include_str!({:?}),",
        path_str(&dir.join("manifest.toml"))
    )
    .unwrap();
    writeln!(code, "        packages: {packages},").unwrap();
    writeln!(code, "        self_test_files: &[").unwrap();
    for file in &self_test_files {
        let file_name = file
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_else(|| panic!("self-test file name is not UTF-8: {}", file.display()));
        writeln!(
            code,
            "            ({file_name:?}, include_str!({:?})),",
            path_str(file)
        )
        .unwrap();
    }
    writeln!(code, "        ],").unwrap();
    writeln!(code, "    }},").unwrap();
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("path is not UTF-8: {}", path.display()))
}
