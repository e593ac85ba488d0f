//! Random scripts made of the masked forms, and any text at all: nothing panics, no secret
//! shows.

use super::super::*;

/// Random scripts made of the masked forms, joined by every operator, nested in every
/// construct: the secret never shows, nothing panics, and only masked bytes change (the
/// masked script without its `***` is a subsequence of the script).
#[test]
fn random_scripts_show_no_secret_and_keep_every_other_byte() {
    let secrets = [
        "mysql -pS3cretZ db",
        "PGPASSWORD=S3cretZ psql",
        "tool --token S3cretZ",
        "curl -u u:S3cretZ x",
        "psql postgres://u:S3cretZ@h/d",
        "env API_KEY=S3cretZ x",
        "sudo -iu r mysql --password=S3cretZ",
        "sshpass -p S3cretZ ssh h",
        "curl -H 'Authorization: Bearer S3cretZ' x",
    ];
    let plain = ["echo ok", "true", "cd /tmp", "grep -i x f", "ls -p"];
    let operators = [";", "&&", "||", "|", "&", "\n", " ; "];
    let mut random = crate::format::testing::xorshift(0x2545_f491_4f6c_dd1d);
    let mut next = |n: usize| (random() % n as u64) as usize;
    for _ in 0..3000 {
        let mut script = String::new();
        for k in 0..1 + next(4) {
            if k > 0 {
                script.push_str(operators[next(operators.len())]);
            }
            let command = if next(2) == 0 {
                secrets[next(secrets.len())]
            } else {
                plain[next(plain.len())]
            };
            let command = match next(7) {
                0 => format!("( {command} )"),
                1 => format!("{{ {command}; }}"),
                2 => format!("echo $({command})"),
                3 => format!("x=\"$({command})\""),
                4 => format!("if true; then {command}; fi"),
                5 => format!("xargs {command}"),
                _ => command.to_owned(),
            };
            script.push_str(&command);
        }
        let argv: Vec<String> = ["sh", "-c", &script].map(String::from).into();
        let shown = &command_line(&argv, None)[2];
        assert!(!shown.contains("S3cretZ"), "{script:?} -> {shown:?}");
        let mut rest = script.bytes();
        assert!(
            shown
                .replace(MASK, "")
                .bytes()
                .all(|b| rest.any(|c| c == b)),
            "{script:?} -> {shown:?}"
        );
    }
    // Long lines of programs, operators, quotes and substitutions: no stack overflow.
    for piece in [
        "sh ",
        "mysql ",
        "sudo ",
        "sh -c '",
        "$(",
        "\"$(",
        "bash -c \"",
        "( ",
    ] {
        let line = piece.repeat(65536 / piece.len());
        let _ = mask_script(&line);
        let _ = command_line(&shlex::split(&line).unwrap_or_default(), None);
    }
    // Any text at all: no panic.
    let pieces = [
        "'", "\"", "\\", "$(", ")", "`", "{", "}", "<", ">", "&", "|", ";", "\n", "#", "$'", "=",
        ":", "-p", "--token", "é", " ", "://", "@", "sh", "-c", "x",
    ];
    for _ in 0..20_000 {
        let text: String = (0..next(14)).map(|_| pieces[next(pieces.len())]).collect();
        let _ = mask_script(&text);
        let _ = command_line(&["sh".into(), "-c".into(), text.clone(), text], None);
    }
}
