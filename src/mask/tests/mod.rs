//! The command-line rules, form by form: every form with its exact masked result, the
//! look-alikes that must stay, and random scripts. The forms the secrets issue lists are in
//! [`forms`], those of the second pass (issue 20) in [`second_pass`], random scripts in [`random`].

use super::*;

mod forms;
mod random;
mod second_pass;

/// `line` (shell words) as logged, word by word.
#[track_caller]
fn shown(line: &str) -> Vec<String> {
    let argv = shlex::split(line).unwrap();
    let shown = command_line(&argv, None);
    assert_eq!(shown.len(), argv.len(), "{line}");
    shown
}

/// Words that look like the masked forms and must stay as they are.
#[test]
fn look_alikes_stay_unchanged() {
    for line in [
        "tool --passes 3",
        "grep password file",
        "grep -r token /etc/mysql",
        "ls -p",
        "tokenize x",
        "tool --no-password x",
        "psql -W db",
        "psql --password app",
        "mysql -p db",
        "mysql --password db",
        "mysql -u root mysql",
        "curl -u user https://x",
        "curl -H 'Accept: text/plain' https://x",
        "tool --password-file /etc/pw x",
        "docker login --password-stdin r.io",
        "docker run -p 8080:80 nginx",
        "env TOKENIZERS_PARALLELISM=false python x",
        "env PWD=/x OLDPWD=/y make",
        "env PASSWORD_STORE_DIR=/x pass",
        "sh -c 'echo ${HOME}; ls {a,b}'",
        "sh -c 'grep -i token file && echo ok'",
        "sh -c 'echo \"it'\\''s\" # a comment'",
        "ssh -p 22 db1 uptime",
        "openssl rsa -passin env:PW -in k",
        "openssl rsa -passin file:/etc/pw -in k",
        "ldapsearch -y /etc/ldap.pw -x -W",
        "mongosh -u admin -p",
        "mongosh -p --quiet",
        "redis-cli -p 6379 ping",
        "ansible-playbook --ask-pass site.yml",
        "tool --token-type bearer",
        "git commit -m 'fix the typo'",
        "make -j2",
        "tool --bypass x",
    ] {
        assert_eq!(shown(line), shlex::split(line).unwrap(), "{line}");
    }
}

#[test]
fn a_preset_chooses_the_rules_for_its_program() {
    let argv: Vec<String> = ["redis-cli", "-a", "S3cret", "ping"]
        .map(String::from)
        .into();
    let shown = command_line(&argv, Some((Secrets::Generic, &["-a".to_owned()])));
    assert_eq!(shown, ["redis-cli", "-a", "***", "ping"]);
}
