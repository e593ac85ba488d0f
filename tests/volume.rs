//! Megabytes of output, long lines and random bytes, kept exactly.

use crate::util::*;

#[test]
fn megabytes_of_random_bytes_are_kept_exactly_in_every_format() {
    let dir = tempdir();
    let input = noise(3 * 1024 * 1024 + 17, 11);
    let file = dir.path().join("input.bin");
    std::fs::write(&file, &input).unwrap();
    let (plain, jsonl) = (dir.path().join("p.log"), dir.path().join("j.jsonl"));
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("cat")
            .arg(&file),
        0,
    );
    assert!(out.stdout == input, "console differs");
    assert!(read(&plain) == input, "plain log differs");
    let records = records(&read(&jsonl));
    check_run(&records);
    assert!(
        rebuild(&records, "stdout") == input,
        "jsonl does not rebuild the input"
    );
}

#[test]
fn long_lines_are_split_into_bounded_records_and_rebuilt() {
    let dir = tempdir();
    let mut input = Vec::new();
    for i in 0..20_000 {
        input.extend(
            format!("line {i} of some ordinary text output, about eighty bytes long ...\n").bytes(),
        );
    }
    input.extend("é".repeat(150_000).bytes()); // a 300 kB line, then no newline at the end
    let file = dir.path().join("input.txt");
    std::fs::write(&file, &input).unwrap();
    let out = run(teelog().args(["-f", "jsonl", "cat"]).arg(&file), 0);
    let records = records(&out.stdout);
    check_run(&records);
    let output: Vec<_> = records.iter().filter(|r| r["type"] == "output").collect();
    assert_eq!(
        output.len() - 20_000,
        5,
        "300 kB in records of at most 64 KiB"
    );
    for r in &output {
        let message = r["message"].as_str().unwrap();
        assert!(message.len() <= 64 * 1024);
        assert!(!message.contains('\u{fffd}'), "a character was cut");
    }
    assert_eq!(output.last().unwrap()["eol"], false);
    assert!(rebuild(&records, "stdout") == input);
}
