//! The shipped completion scripts, in the real shells: bash with bash-completion loaded, zsh
//! through a pty (zpty) with compinit, fish with `complete -C`.

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// A PATH on which `teelog` is the binary under test.
fn path() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_teelog")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A directory with the three scripts as `teelog completions` writes them, a user presets file
/// (preset `nightly`) under `config/teelog/presets.toml`, another one (`weekly`) in `other.toml`,
/// and a recording `run.jsonl`.
fn setup() -> tempfile::TempDir {
    let dir = tempdir();
    for (shell, name) in [
        ("bash", "teelog"),
        ("zsh", "_teelog"),
        ("fish", "teelog.fish"),
    ] {
        let out = run(teelog().args(["completions", shell]), 0);
        std::fs::write(dir.path().join(name), out.stdout).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("config/teelog")).unwrap();
    std::fs::write(
        dir.path().join("config/teelog/presets.toml"),
        "[presets.nightly]\nprogram = \"true\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("other.toml"),
        "[presets.weekly]\nprogram = \"true\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("run.jsonl"), "").unwrap();
    dir
}

/// Runs `script` in `shell` (in `dir`, with teelog on PATH and `dir/config` as the config home);
/// its output split at lines `--`, each answer's lines sorted.
#[track_caller]
fn answers(dir: &Path, shell: &str, args: &[&str], script: &str) -> Vec<Vec<String>> {
    let out = run(
        Command::new(shell)
            .args(args)
            .arg(script)
            .current_dir(dir)
            .env("PATH", path())
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env_remove("XDG_DATA_DIRS"),
        0,
    );
    let shown = text(&out.stdout);
    shown
        .split("--\n")
        .map(|answer| {
            let mut lines: Vec<String> = answer
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            lines.sort();
            lines
        })
        .collect()
}

fn has(answer: &[String], word: &str) -> bool {
    answer.iter().any(|w| w == word)
}

const CONSOLE_FORMATS: [&str; 4] = ["asciicast", "classic", "jsonl", "plain"];

/// Each case: the words of a command line, the last one being the word the cursor is on.
const BASH_CASES: &[&[&str]] = &[
    &["teelog", "-o", "x.log", "--", "ech"],
    &["teelog", "--", "mytool", ""],
    &["teelog", "--", "mytool", "--format", "a"],
    &["teelog", "-q", "mytool", ""],
    &["teelog", "--", "apt-get", "inst"],
    &["teelog", "rep"],
    &["teelog", "replay", ""],
    &["teelog", "replay", "--"],
    &["teelog", "--format", ""],
    &["teelog", "--format", "=", ""],
    &["teelog", "replay", "--format", ""],
    &["teelog", "--preset", ""],
    &["teelog", "--presets-file", "other.toml", "--preset", ""],
    &["teelog", "completions", ""],
    &["teelog", "-o", "jsonl", "=", "ru"],
    &["teelog", "--syslog-facility", "local"],
];

fn bash_answers(dir: &Path, loader: &str) -> Vec<Vec<String>> {
    let mut script = format!(
        "{loader}
         complete -W 'alpha beta' mytool
         at() {{ COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\";
             COMP_POINT=${{#COMP_LINE}}; COMPREPLY=();
             _teelog teelog \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\";
             printf '%s\\n' \"${{COMPREPLY[@]}}\"; echo --; }}\n"
    );
    for case in BASH_CASES {
        let words: Vec<String> = case.iter().map(|w| format!("'{w}'")).collect();
        script.push_str(&format!("at {}\n", words.join(" ")));
    }
    answers(dir, "bash", &["--norc", "--noprofile", "-c"], &script)
}

/// The answers of bash for [`BASH_CASES`], in order.
#[track_caller]
fn check_bash(a: &[Vec<String>], with_bash_completion: bool) {
    assert!(has(&a[0], "echo"), "the command: {:?}", a[0]);
    assert!(!a[0].iter().any(|w| w.starts_with('-')), "{:?}", a[0]);
    if with_bash_completion {
        assert_eq!(a[1], ["alpha", "beta"], "the command's own completion");
        assert_eq!(a[2], ["alpha"], "not teelog's --format's values");
        assert_eq!(a[3], ["alpha", "beta"], "a command without --");
        assert!(
            has(&a[4], "install"),
            "bash-completion's apt-get: {:?}",
            a[4]
        );
    } else {
        assert!(!a[1].iter().any(|w| w.starts_with('-')), "{:?}", a[1]);
        assert!(
            a[2].is_empty(),
            "not teelog's --format's values: {:?}",
            a[2]
        );
    }
    assert!(has(&a[5], "replay"), "{:?}", a[5]);
    assert!(has(&a[6], "run.jsonl"), "replay FILE: {:?}", a[6]);
    assert!(
        has(&a[7], "--speed") && has(&a[7], "--format"),
        "{:?}",
        a[7]
    );
    assert!(
        !has(&a[7], "--log") && !has(&a[7], "--preset"),
        "{:?}",
        a[7]
    );
    assert_eq!(a[8], CONSOLE_FORMATS, "--format: the console formats only");
    assert_eq!(a[9], CONSOLE_FORMATS, "--format=");
    assert_eq!(a[10], CONSOLE_FORMATS, "replay --format");
    assert!(
        has(&a[11], "mysql") && has(&a[11], "nightly"),
        "{:?}",
        a[11]
    );
    assert!(has(&a[12], "psql") && has(&a[12], "weekly"), "{:?}", a[12]);
    assert!(
        !has(&a[12], "nightly"),
        "--presets-file replaces the user's file"
    );
    assert!(has(&a[13], "bash") && has(&a[13], "fish"), "{:?}", a[13]);
    assert_eq!(a[14], ["run.jsonl"], "-o jsonl=PATH");
    assert_eq!(a[15].len(), 8, "local0 to local7: {:?}", a[15]);
}

fn bash_with_bash_completion_hands_the_command_to_its_own_completion() {
    let loader = "/usr/share/bash-completion/bash_completion";
    require(&BASH_COMPLETION);
    let dir = setup();
    let a = bash_answers(dir.path(), &format!("source {loader}; source ./teelog"));
    check_bash(&a, true);
}

fn bash_without_bash_completion_still_completes_teelogs_own_words() {
    let dir = setup();
    let a = bash_answers(dir.path(), "source <(teelog completions bash)");
    check_bash(&a, false);
}

/// Types each of `lines` and a Tab into an interactive bash on a terminal, with bash-completion
/// and the script loaded; what the terminal showed after each Tab (the list, or the line with
/// the one completion inserted).
fn interactive_bash(dir: &Path, lines: &[&str]) -> Vec<String> {
    use std::io::Write;
    std::fs::write(
        dir.join("inputrc"),
        "set show-all-if-ambiguous on\nset completion-query-items 0\nset page-completions off\n",
    )
    .unwrap();
    let pty = terminal();
    let slave = std::fs::File::from(pty.slave);
    let mut bash = Command::new("setsid")
        .args(["-c", "bash", "--norc", "--noprofile", "-i"])
        .current_dir(dir)
        .env("PATH", path())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("INPUTRC", dir.join("inputrc"))
        .env("PS1", "$ ")
        .env("TERM", "dumb")
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut master = std::fs::File::from(pty.master);
    let mut shown = Collector::new(master.try_clone().unwrap());
    let mut typed = String::from(
        "source /usr/share/bash-completion/bash_completion; source ./teelog; echo READY$((0))\n",
    );
    master.write_all(typed.as_bytes()).unwrap();
    // Each line is typed once the prompt is back: readline has then put the terminal in raw
    // mode. Typed earlier, while a command still runs, the line waits in the terminal's own
    // line editing, which takes the ^U itself and erases the line before readline sees it.
    shown.wait_for("\nREADY0\r\n$ ");
    for (n, line) in lines.iter().enumerate() {
        // Readline takes the keys in order: the Tab's answer is shown before the marker is.
        typed = format!("{line}\t\x15echo MARK$(({n}+1))\n");
        master.write_all(typed.as_bytes()).unwrap();
        shown.wait_for(&format!("\nMARK{}\r\n$ ", n + 1));
    }
    master.write_all(b"exit\n").unwrap();
    assert!(bash.wait().unwrap().success());
    let all = shown.rest().replace('\r', "");
    let mut answers = Vec::new();
    let mut rest = &all[all.find("\nREADY0").unwrap()..];
    for n in 1..=lines.len() {
        let at = rest.find(&format!("\nMARK{n}")).unwrap();
        answers.push(rest[..at].to_owned());
        rest = &rest[at + 1..];
    }
    answers
}

fn an_interactive_bash_completes_a_line_as_typed() {
    require(&BASH_COMPLETION);
    let dir = setup();
    let a = interactive_bash(
        dir.path(),
        &[
            "teelog --format=",
            "teelog --format=js",
            "teelog -o jsonl=ru",
            "teelog --syslog-facility=local",
            "teelog -- apt-get ins",
            "teelog replay ru",
            "teelog --preset ",
        ],
    );
    assert!(
        a[0].contains("asciicast  classic    jsonl      plain"),
        "{:?}",
        a[0]
    );
    assert!(a[1].contains("teelog --format=jsonl "), "{:?}", a[1]);
    assert!(a[2].contains("teelog -o jsonl=run.jsonl "), "{:?}", a[2]);
    assert!(a[3].contains("local0  local1"), "{:?}", a[3]);
    assert!(a[4].contains("teelog -- apt-get install "), "{:?}", a[4]);
    assert!(a[5].contains("teelog replay run.jsonl "), "{:?}", a[5]);
    assert!(
        a[6].contains("mysql") && a[6].contains("nightly"),
        "{:?}",
        a[6]
    );
}

/// Completes each line of `lines` (the cursor at its end) in an interactive zsh on a pty, with
/// compinit and the script on `fpath`; the words offered, one a line, each answer ended by `--`.
/// This is the well-known "zsh completion capture": compadd is wrapped to print what it adds.
fn zsh_answers(dir: &Path, lines: &[&str]) -> Vec<Vec<String>> {
    let init = dir.join("capture-init.zsh");
    std::fs::write(
        &init,
        r#"PROMPT='' RPROMPT=''
fpath=($PWD $fpath)
autoload -U compinit && compinit -u -D
compadd() {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
        builtin compadd "$@"
        return $?
    fi
    local -a __hits
    builtin compadd -A __hits "$@"
    local ret=$?
    local hit
    for hit in $__hits; do
        print -r -- "<hit>$IPREFIX$hit"
    done
    return ret
}
zstyle ':completion:*' list-prompt ''
zstyle ':completion:*' menu no
bindkey '^I' complete-word
comppostfuncs=(__end)
__end() { print -r -- '<end>'; exit }
print -r -- '<ready>'
"#,
    )
    .unwrap();
    let mut all = Vec::new();
    for line in lines {
        let script = format!(
            r#"zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source {init}"
local out
zpty -r z out '*<ready>*' || exit 3
zpty -w -n z {line}$'\t'
while zpty -r z out; do
    print -rn -- "$out"
done | tr -d '\r' | grep -a '<hit>' | sed 's/.*<hit>//'
print -r -- --
zpty -d z"#,
            init = init.display(),
            line = shell_quote(line),
        );
        let mut answer = answers(dir, "zsh", &["-f", "-c"], &script);
        all.push(answer.swap_remove(0));
    }
    all
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn zsh_completes_each_subcommand_with_its_own_options_and_the_command_as_itself() {
    require(&ZSH);
    let dir = setup();
    let a = zsh_answers(
        dir.path(),
        &[
            "teelog replay --",
            "teelog replay ",
            "teelog --format ",
            "teelog --preset ",
            "teelog --presets-file other.toml --preset ",
            "teelog -- ech",
            "teelog rep",
            "teelog completions ",
            "teelog -- true --",
        ],
    );
    assert!(has(&a[0], "--speed") && has(&a[0], "--list"), "{:?}", a[0]);
    assert!(
        !has(&a[0], "--log") && !has(&a[0], "--preset"),
        "{:?}",
        a[0]
    );
    assert!(has(&a[1], "run.jsonl"), "replay FILE: {:?}", a[1]);
    assert_eq!(a[2], CONSOLE_FORMATS, "--format: the console formats only");
    assert!(has(&a[3], "mysql") && has(&a[3], "nightly"), "{:?}", a[3]);
    assert!(has(&a[4], "weekly") && !has(&a[4], "nightly"), "{:?}", a[4]);
    assert!(has(&a[5], "echo"), "{:?}", a[5]);
    assert!(has(&a[6], "replay"), "{:?}", a[6]);
    assert!(has(&a[7], "bash") && has(&a[7], "zsh"), "{:?}", a[7]);
    assert!(!has(&a[8], "--format"), "not teelog's options: {:?}", a[8]);
}

/// `complete -C` for each line, in a fish that loaded the script from its completion path.
fn fish_answers(dir: &Path, lines: &[&str]) -> Vec<Vec<String>> {
    let mut script = "set -g fish_complete_path $PWD $fish_complete_path\n".to_owned();
    script.push_str("complete -c mytool -f -a 'alpha beta'\n");
    for line in lines {
        script.push_str(&format!(
            "complete -C {} | string replace -r '\\t.*' ''; printf '%s\\n' --\n",
            shell_quote(line)
        ));
    }
    answers(dir, "fish", &["--no-config", "-c"], &script)
}

fn fish_completes_presets_formats_subcommands_and_the_command() {
    require(&FISH);
    let dir = setup();
    let a = fish_answers(
        dir.path(),
        &[
            "teelog --preset ",
            "teelog --presets-file other.toml --preset ",
            "teelog -f ",
            "teelog --format ",
            "teelog completions ",
            "teelog rep",
            "teelog replay --",
            "teelog replay ",
            "teelog -- mytool ",
            "teelog -- mytool --form",
            "teelog -q mytool ",
            "teelog --preset=",
        ],
    );
    assert!(has(&a[0], "mysql") && has(&a[0], "nightly"), "{:?}", a[0]);
    assert!(has(&a[1], "weekly") && !has(&a[1], "nightly"), "{:?}", a[1]);
    assert_eq!(a[2], CONSOLE_FORMATS, "-f");
    assert_eq!(a[3], CONSOLE_FORMATS, "--format");
    assert!(has(&a[4], "bash") && has(&a[4], "fish"), "{:?}", a[4]);
    assert!(has(&a[5], "replay"), "{:?}", a[5]);
    assert!(has(&a[6], "--speed") && !has(&a[6], "--log"), "{:?}", a[6]);
    assert!(has(&a[7], "run.jsonl"), "replay FILE: {:?}", a[7]);
    assert_eq!(a[8], ["alpha", "beta"], "the command's own completion");
    assert!(a[9].is_empty(), "not teelog's --format: {:?}", a[9]);
    assert_eq!(a[10], ["alpha", "beta"], "a command without --");
    assert!(has(&a[11], "--preset=mysql"), "{:?}", a[11]);
}

fn the_scripts_load_from_source_and_a_full_output_is_an_error() {
    let dir = setup();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(teelog().args(["completions", shell]), 0);
        assert!(text(&out.stdout).contains("log-input"), "{shell}");
    }
    let out = run(
        Command::new("bash")
            .args([
                "--norc",
                "-c",
                "source <(teelog completions bash) && complete -p teelog",
            ])
            .env("PATH", path())
            .current_dir(dir.path()),
        0,
    );
    assert!(
        text(&out.stdout).contains("-F _teelog"),
        "{}",
        text(&out.stdout)
    );
    let full = std::fs::File::create("/dev/full").unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(
            teelog()
                .args(["completions", shell])
                .stdout(full.try_clone().unwrap()),
            125,
        );
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("teelog: ") && err.contains("No space left"),
            "{err}"
        );
    }
}

crate::trials![
    bash_with_bash_completion_hands_the_command_to_its_own_completion[BASH_COMPLETION],
    bash_without_bash_completion_still_completes_teelogs_own_words,
    an_interactive_bash_completes_a_line_as_typed[BASH_COMPLETION],
    zsh_completes_each_subcommand_with_its_own_options_and_the_command_as_itself[ZSH],
    fish_completes_presets_formats_subcommands_and_the_command[FISH],
    the_scripts_load_from_source_and_a_full_output_is_an_error,
];
