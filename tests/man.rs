//! man/teelog.1 is generated from the clap definition (and the hand-written sections in
//! man/sections.roff), so it cannot drift from the flags. After changing either, run
//! `TEELOG_UPDATE_MAN=1 cargo test man` and commit the result.

use std::path::Path;

use clap::CommandFactory;
use teelog::cli::Cli;

fn render() -> Vec<u8> {
    let man = clap_mangen::Man::new(Cli::command()).manual("teelog manual");
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    out.extend(std::fs::read(root.join("man/sections.roff")).unwrap());
    man.render_version_section(&mut out).unwrap();
    out
}

#[test]
fn man_page_matches_the_cli() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/teelog.1");
    let rendered = render();
    if std::env::var_os("TEELOG_UPDATE_MAN").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "man/teelog.1 is out of date: run `TEELOG_UPDATE_MAN=1 cargo test man` and commit it"
    );
}

#[test]
fn man_page_documents_every_flag_and_format() {
    let page = String::from_utf8(render()).unwrap();
    for arg in Cli::command().get_arguments() {
        if let Some(long) = arg.get_long() {
            assert!(
                page.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))),
                "--{long}"
            );
        }
    }
    let replay = Cli::command()
        .find_subcommand("replay")
        .expect("a replay subcommand")
        .clone();
    for arg in replay.get_arguments() {
        if let Some(long) = arg.get_long() {
            assert!(
                page.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))),
                "replay --{long}"
            );
        }
    }
    for section in [
        "REPLAY",
        "ASCIICAST",
        "EXIT STATUS",
        "JSONL RECORDS",
        "CLASSIC FORMAT",
        "PRESETS",
        "SECRETS",
        "ENVIRONMENT",
        "SIGNALS",
        "GUARANTEES",
        "EXAMPLES",
    ] {
        assert!(
            page.contains(&format!(".SH \"{section}\""))
                || page.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
}
