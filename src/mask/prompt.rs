//! Password prompts in the command's output, and the input lines typed at them: those lines are
//! recorded as `***`, as sudo's I/O log records them without `log_passwords` (its
//! `passprompt_regex`, `[Pp]assword[: ]*` by default: `lib/iolog/iolog_filter.c`). Without a
//! terminal (cron, CI) psql's `\password`, `psql -W`, `mysql -p`, `sudo -S` and `read -r` in sh
//! read the password from their stdin, which `--log-input` records.
//!
//! teelog cannot see when the command reads a line, only how much of its pipe it has taken
//! (checked once a round of the runner's loop), and a program may take all of it at once and
//! read the lines from its own buffer later (psql, mysql). So the rule is stated in rounds: a
//! round is one look at how much input the command has taken, then a read of every output
//! stream (drained), which therefore holds everything written before that look. A password
//! prompt read in a round masks
//!
//! - every line the command took in that round (one of them may be the answer, which one is
//!   unknown: all are masked rather than one leaked);
//! - the next lines it takes after that round, one per prompt (at most [`MAX_OWED`]): the
//!   answer the command had not read yet;
//! - and, whatever the timing, the two lines after a psql `\password` line (its prompts,
//!   `Enter new password for user "x": ` and `Enter it again: `, come after psql has read them).
//!
//! Input with no prompt before it or in its round is recorded as it is.
//!
//! A prompt is a password word (`password`, `passwd`, `passphrase`, `pass phrase`, `passcode`,
//! `passwort`, `PIN` as a word; any case) that ends an output line or is followed by a colon on
//! it, on stdout or stderr; right after one, a colon after `again`, `retype`, `repeat`,
//! `confirm`, `verify` or `re-enter` is one too. Each counts once, several on a line apiece.
//! What it cannot cover: a program that takes its input ahead and asks for a password more than
//! a round later (psql's `\connect` to a server that wants one, mid-script), with no rule of
//! its own: give such passwords in ~/.pgpass or the environment.

use crate::event::Stream;

/// At most this many later input lines are owed a mask by prompts not yet answered: a prompt and
/// its confirmation (a program asks again only once it has read the first answer).
pub const MAX_OWED: usize = 2;

/// How much of an output line is kept to look for a prompt in: its end.
const TAIL: usize = 512;

/// How far after a password word a colon still makes the line a prompt (`password for user
/// "x": `, `passphrase for key '/root/.ssh/id_ed25519': `).
const COLON_REACH: usize = 160;

/// The words that make a line ending in a colon a password prompt (any case). `pin` counts
/// only as a word of its own.
const WORDS: [&[u8]; 6] = [
    b"password",
    b"passwd",
    b"passphrase",
    b"pass phrase",
    b"passcode",
    b"passwort",
];

/// A prompt right after a password prompt asks for it again with one of these
/// (psql's `Enter it again: `).
const AGAIN: [&[u8]; 6] = [
    b"again",
    b"retype",
    b"re-enter",
    b"repeat",
    b"confirm",
    b"verify",
];

/// Watches the output for password prompts and decides, line by line, how the input the command
/// read is recorded. The caller feeds it the output and input of each round as it comes and
/// calls [`Prompts::decide`] at the end of each round.
#[derive(Debug, Default)]
pub struct Prompts {
    /// Per output stream: the end of the line being written.
    lines: [Line; 2],
    /// The last output line was a password prompt: a prompt that asks again counts too.
    after_prompt: bool,
    /// Prompts read in this round.
    seen: usize,
    /// Input lines still to mask, taken after the round that owed them.
    owed: usize,
    /// Input the command took, not yet decided: whole lines, then perhaps a partial one.
    held: Vec<u8>,
    /// The partial line at the end of `held`: whether its start was masked (decided already).
    partial: Option<bool>,
    /// Input came in this round.
    fresh: bool,
}

/// The end of the output line being written, after the last prompt counted in it.
#[derive(Debug, Default)]
struct Line {
    tail: Vec<u8>,
}

impl Prompts {
    /// Output the command wrote on `stream`, read in this round. Each prompt counts once, and
    /// several on one line count apiece (sh's `printf 'Password: '` then `printf 'Again: '`,
    /// with no newline between, as nothing echoes the answer).
    pub fn output(&mut self, stream: Stream, bytes: &[u8]) {
        let line = &mut self.lines[stream.index().min(1)];
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            let (text, ended) = match piece.strip_suffix(b"\n") {
                Some(text) => (text, true),
                None => (piece, false),
            };
            line.tail.extend_from_slice(text);
            if line.tail.len() > 2 * TAIL {
                line.tail.drain(..line.tail.len() - TAIL);
            }
            while let Some(end) = prompt_end(&line.tail, self.after_prompt) {
                self.seen += 1;
                self.after_prompt = true;
                line.tail.drain(..end);
            }
            if ended {
                if !trim_end(&line.tail).is_empty() {
                    self.after_prompt = false;
                }
                line.tail.clear();
            }
        }
    }

    /// Input the command took from its pipe in this round (given before the round's output).
    pub fn input(&mut self, bytes: &[u8]) {
        self.held.extend_from_slice(bytes);
        self.fresh |= !bytes.is_empty();
    }

    /// Whether input came in this round: output read after it waits for [`Prompts::decide`],
    /// to stay behind it in the logs.
    pub fn holding(&self) -> bool {
        self.fresh
    }

    /// The round is over (every output stream has been read since its input came): appends to
    /// `out` the whole lines held, each as it was or as `***` and its newline; keeps a partial
    /// line (its start decided).
    pub fn decide(&mut self, out: &mut Vec<u8>) {
        let prompted = self.seen > 0;
        let whole = memchr::memrchr(b'\n', &self.held).map_or(0, |n| n + 1);
        let held = std::mem::take(&mut self.held);
        for line in held[..whole].split_inclusive(|b| *b == b'\n') {
            let masked = self.start_line() || prompted;
            self.partial = None;
            emit(line, masked, out);
            if psql_password(line) {
                self.owed = MAX_OWED;
            }
        }
        if whole < held.len() {
            let masked = self.start_line() || prompted;
            self.partial = Some(masked);
        }
        self.held = held[whole..].to_vec();
        self.owed = self.owed.max(self.seen.min(MAX_OWED));
        self.seen = 0;
        self.fresh = false;
    }

    /// The end of the run: decides what is held, its last line without a newline too.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.decide(out);
        let rest = std::mem::take(&mut self.held);
        if !rest.is_empty() {
            emit(&rest, self.partial.take().unwrap_or(false), out);
        }
    }

    /// Whether the line starting now is masked: the partial line's decision, else one owed.
    fn start_line(&mut self) -> bool {
        if let Some(masked) = self.partial {
            return masked;
        }
        let owed = self.owed > 0;
        self.owed -= usize::from(owed);
        owed
    }
}

/// `line` as recorded: itself, or `***` and the newline it ends with.
fn emit(line: &[u8], masked: bool, out: &mut Vec<u8>) {
    if !masked {
        out.extend_from_slice(line);
        return;
    }
    out.extend_from_slice(super::MASK.as_bytes());
    if line.ends_with(b"\n") {
        out.push(b'\n');
    }
}

/// psql's `\password [USER]`, which reads the new password twice from stdin.
fn psql_password(line: &[u8]) -> bool {
    let line = line.trim_ascii();
    line.strip_prefix(b"\\password")
        .is_some_and(|rest| rest.first().is_none_or(u8::is_ascii_whitespace))
}

fn trim_end(line: &[u8]) -> &[u8] {
    line.trim_ascii_end()
}

/// Where the first prompt in an output line (so far) ends, if there is one: a password word
/// that ends the line (`Passphrase`, `PIN `), or the first colon after one (`Password: `,
/// `[sudo] password for x: `, `Enter new password for user "x": `, and `Password: ` with what
/// came after it on the same line). Right `after_prompt`, a colon after a word asking again
/// (`Enter it again: `) ends one too.
fn prompt_end(line: &[u8], after_prompt: bool) -> Option<usize> {
    let trimmed = trim_end(line).len();
    let end_after = |word_end: usize| {
        if word_end == trimmed {
            return Some(line.len());
        }
        let reach = &line[word_end..trimmed.min(word_end + COLON_REACH)];
        memchr::memchr(b':', reach).map(|c| word_end + c + 1)
    };
    let mut first: Option<usize> = None;
    let mut consider = |end: Option<usize>| {
        if let Some(end) = end {
            first = Some(first.map_or(end, |f| f.min(end)));
        }
    };
    let again = AGAIN.iter().filter(|_| after_prompt);
    for word in WORDS.iter().chain(again).copied().chain([&b"pin"[..]]) {
        let mut at = 0;
        while let Some(start) = find_caseless(&line[at..trimmed], word) {
            let (start, end) = (at + start, at + start + word.len());
            // `PIN` only as a word of its own.
            let alone = word != b"pin"
                || ((start == 0 || !line[start - 1].is_ascii_alphanumeric())
                    && line[..trimmed]
                        .get(end)
                        .is_none_or(|b| !b.is_ascii_alphanumeric()));
            let is_again = AGAIN.contains(&word);
            // A word asking again needs its colon.
            let found = end_after(end).filter(|&e| !is_again || line[..e].ends_with(b":"));
            if alone && found.is_some() {
                consider(found);
                break;
            }
            at = end;
        }
    }
    first
}

/// Whether an output line asks for a password (see [`prompt_end`]).
pub fn asks_for_password(line: &[u8]) -> bool {
    prompt_end(line, false).is_some()
}

fn find_caseless(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Stream::{Stderr, Stdout};

    #[test]
    fn prompts_are_told_from_ordinary_output() {
        for prompt in [
            "Password: ",
            "password:",
            "[sudo] password for alice: ",
            "Enter password: ",
            "Enter new password for user \"bob\": ",
            "root@db1's password: ",
            "Enter passphrase for key '/root/.ssh/id_ed25519': ",
            "Enter PEM pass phrase:",
            "Passphrase",
            "PIN ",
            "Enter PIN for 'token': ",
            "Passwort: ",
            "Password: ok, checking\n",
        ] {
            assert!(asks_for_password(prompt.as_bytes()), "{prompt:?}");
        }
        for line in [
            "Password changed.",
            "FATAL:  password authentication failed for user \"x\"",
            "mysql: [Warning] Using a password on the command line interface can be insecure.",
            "Passwords didn't match.",
            "Ping: 3 ms",
            "spin: 4",
            "select 1;",
            "",
        ] {
            assert!(!asks_for_password(line.as_bytes()), "{line:?}");
        }
    }

    fn decided(p: &mut Prompts) -> String {
        let mut out = Vec::new();
        p.decide(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_prompt_before_the_input_masks_the_next_line_only() {
        let mut p = Prompts::default();
        p.output(Stderr, b"Password: ");
        assert_eq!(decided(&mut p), "");
        p.input(b"s3cret\nls\n");
        assert_eq!(decided(&mut p), "***\nls\n");
    }

    #[test]
    fn a_prompt_in_the_round_masks_every_line_of_the_round() {
        let mut p = Prompts::default();
        p.input(b"alice\ns3cret\n");
        p.output(Stderr, b"Password: ");
        p.output(Stdout, b"welcome\n");
        assert_eq!(decided(&mut p), "***\n***\n");
    }

    #[test]
    fn ordinary_input_after_ordinary_output_is_kept() {
        let mut p = Prompts::default();
        p.output(Stdout, b"Password changed.\nhello\n");
        assert_eq!(decided(&mut p), "");
        p.input(b"ls -l\n");
        p.output(Stdout, b"total 0\n");
        assert_eq!(decided(&mut p), "ls -l\n");
    }

    #[test]
    fn psql_password_masks_the_two_lines_after_it_whenever_its_prompts_come() {
        let mut p = Prompts::default();
        p.input(b"select 1;\n\\password bob\nNew1\nNew1\nselect 2;\n");
        assert_eq!(
            decided(&mut p),
            "select 1;\n\\password bob\n***\n***\nselect 2;\n"
        );
        p.output(
            Stderr,
            b"Enter new password for user \"bob\": \nEnter it again: \n",
        );
        assert_eq!(decided(&mut p), "");
    }

    #[test]
    fn a_prompt_asking_again_counts_after_a_password_prompt_only() {
        let mut p = Prompts::default();
        p.output(Stderr, b"Enter it again: ");
        assert_eq!(p.seen, 0);
        p.output(Stderr, b"\nNew password: \nEnter it again: \n");
        assert_eq!(p.seen, 2);
        p.seen = 0;
        p.output(Stderr, b"New password: Retype it: ");
        assert_eq!(p.seen, 2, "two prompts on one line");
        p.seen = 0;
        p.output(Stderr, b"Password: ");
        p.output(Stderr, b"Enter it again: ");
        assert_eq!(p.seen, 2, "two prompts on one line, in two reads");
    }

    #[test]
    fn a_line_taken_in_pieces_is_decided_at_its_start_and_kept_whole() {
        let mut p = Prompts::default();
        p.output(Stderr, b"Pass");
        p.output(Stderr, b"word: ");
        assert_eq!(decided(&mut p), "");
        p.input(b"s3c");
        assert_eq!(decided(&mut p), "");
        p.input(b"ret\nnext");
        assert_eq!(decided(&mut p), "***\n");
        let mut out = Vec::new();
        p.finish(&mut out);
        assert_eq!(out, b"next");
    }
}
