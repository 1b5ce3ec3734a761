//! Sliced-file metadata over the real fixtures in ../shared/fixtures/slicefiles/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use printstall_core::slicefile::{self, SliceInfo};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/slicefiles")
        .join(name)
}

fn inspect(name: &str) -> SliceInfo {
    let mut f = std::fs::File::open(fixture(name)).expect(name);
    slicefile::inspect(&mut f, name).expect(name)
}

#[test]
fn dump_all() {
    let dir = fixture("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    for n in names {
        let info = inspect(&n);
        println!("{}", serde_json::to_string(&info).unwrap());
        println!("{}", info.to_summary());
    }
}
