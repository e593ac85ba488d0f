//! Shell scripts (`sh -c`, `su -c`, `ssh host 'cmd'`, `env -S`): read as a POSIX shell would,
//! enough to find each simple command and the words it gets. Every word keeps, for each byte of
//! its value, where that byte stands in the script, so that a secret found in a word is masked
//! where it stands and every other byte of the script stays as it was.

use std::ops::Range;

use super::word::Edit;

/// A shell word: its value (quotes removed, escapes resolved) and, for each byte of the value,
/// its span in the script (an escaped byte's span starts at its backslash) and the quoted part
/// of the word it comes from.
#[derive(Debug, Default)]
pub(super) struct Word {
    pub value: String,
    spans: Vec<(usize, usize)>,
    parts: Vec<u32>,
}

impl Word {
    /// `edit` (on the value) as edits of the script: one per quoted part it touches, the first
    /// one showing `***`, so that the quotes around the parts stay and stay balanced.
    /// A replacement other than `***` (a masked copy) goes in only where the script holds the
    /// value as it is (no quotes or escapes inside); elsewhere the range becomes `***`.
    pub fn to_script(&self, edit: &Edit, script: &str) -> Vec<Edit> {
        let Range { start, end } = edit.range.clone();
        if !matches!(edit.with.as_ref(), "" | super::MASK) && start < end && end <= self.spans.len()
        {
            let raw = self.spans[start].0..self.spans[end - 1].1;
            if script.get(raw.clone()) != self.value.get(start..end) {
                return vec![Edit::mask(raw)];
            }
        }
        let mut out: Vec<Edit> = Vec::new();
        let mut k = start;
        while k < end.min(self.spans.len()) {
            let part = self.parts[k];
            let mut last = k;
            while last + 1 < end && self.parts[last + 1] == part {
                last += 1;
            }
            out.push(edit.moved(self.spans[k].0..self.spans[last].1, out.is_empty()));
            k = last + 1;
        }
        out
    }
}

/// What a script is made of, as far as masking needs.
#[derive(Debug)]
pub(super) enum Token {
    Word(Word),
    /// The end of a simple command: `; & && | || ( ) { }` as operators, newlines.
    Break,
    /// A command substitution (`$(` or a backtick) begins: its commands are apart, and the
    /// command it stands in goes on after its [`Token::Close`] (`mysql -u $(whoami) -pX`).
    Open,
    /// The substitution opened last ends.
    Close,
    /// `<`, `>`, `>>`, `2>&`, `<<`...: the next word is a file (or a here-document's end
    /// marker), not an argument.
    Redirect,
    /// The body of a here-document (`<<EOF` ... `EOF`): text the command reads, not commands.
    Text(Range<usize>),
}

enum Nest {
    Double,
    /// `$( ... )` with the count of `(` opened inside.
    Substitution(u32),
    Backtick,
}

/// The script's tokens. Never fails: an unclosed quote runs to the end.
pub(super) fn lex(script: &str) -> Vec<Token> {
    Lexer {
        s: script,
        tokens: Vec::new(),
        word: None,
        part: 0,
        nest: Vec::new(),
        outer: Vec::new(),
        delimiter_next: None,
        heredocs: Vec::new(),
    }
    .run()
}

struct Lexer<'a> {
    s: &'a str,
    tokens: Vec<Token>,
    word: Option<Word>,
    part: u32,
    nest: Vec<Nest>,
    /// For each open substitution, the word it began in (`-u "$(whoami):x"`), which goes on
    /// after it.
    outer: Vec<Option<Word>>,
    /// After `<<` (`Some(true)` for `<<-`): the next word is a here-document's delimiter.
    delimiter_next: Option<bool>,
    /// The here-documents whose bodies start after the next newline: delimiter, `<<-`.
    heredocs: Vec<(String, bool)>,
}

impl Lexer<'_> {
    fn run(mut self) -> Vec<Token> {
        let b = self.s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let next = b.get(i + 1).copied();
            i = if matches!(self.nest.last(), Some(Nest::Double)) {
                self.double_quoted(i, next)
            } else {
                self.unquoted(i, next)
            };
        }
        self.end_word();
        self.tokens
    }

    /// One step outside quotes; returns where the next one starts.
    fn unquoted(&mut self, i: usize, next: Option<u8>) -> usize {
        match self.s.as_bytes()[i] {
            b' ' | b'\t' => {
                self.end_word();
                i + 1
            }
            b'&' if next == Some(b'>') => self.redirect(i),
            b'\n' => {
                self.operator();
                if self.nest.is_empty() && !self.heredocs.is_empty() {
                    self.heredoc_bodies(i + 1)
                } else {
                    i + 1
                }
            }
            b';' | b'&' | b'|' => {
                self.operator();
                i + 1
            }
            // `{` and `}` are reserved words: alone, not in `${X}` or `{a,b}`.
            b'{' | b'}'
                if self.word.is_none()
                    && next.is_none_or(|n| n.is_ascii_whitespace() || b";&|)".contains(&n)) =>
            {
                self.operator();
                i + 1
            }
            c @ (b'(' | b')' | b'`') => {
                self.nesting(c);
                i + 1
            }
            b'$' if next == Some(b'(') => {
                self.open(Nest::Substitution(0));
                i + 2
            }
            b'<' | b'>' => self.redirect(i),
            b'\'' => self.single_quoted(i + 1, false),
            b'$' if next == Some(b'\'') => self.single_quoted(i + 2, true),
            b'"' => {
                self.open_part();
                self.nest.push(Nest::Double);
                i + 1
            }
            b'\\' if next == Some(b'\n') => i + 2,
            b'\\' if next.is_some() => self.push_char(i + 1, i),
            b'#' if self.word.is_none() => self.comment(i),
            _ => self.push_char(i, i),
        }
    }

    /// `(`, `)` or a backtick outside double quotes: a command ends there, and a parenthesis
    /// is counted in the substitution it stands in (its last `)` closes it), a backtick opens
    /// or closes one.
    fn nesting(&mut self, c: u8) {
        match c {
            b'(' => {
                if let Some(Nest::Substitution(n)) = self.nest.last_mut() {
                    *n += 1;
                }
                self.operator();
            }
            b')' => match self.nest.last_mut() {
                Some(Nest::Substitution(0)) => {
                    self.nest.pop();
                    self.close();
                }
                Some(Nest::Substitution(n)) => {
                    *n -= 1;
                    self.operator();
                }
                _ => self.operator(),
            },
            _ => {
                if matches!(self.nest.last(), Some(Nest::Backtick)) {
                    self.nest.pop();
                    self.close();
                } else {
                    self.open(Nest::Backtick);
                }
            }
        }
    }

    /// A substitution begins: the word it stands in waits for its end.
    fn open(&mut self, nest: Nest) {
        self.outer.push(self.word.take());
        self.part += 1;
        self.tokens.push(Token::Open);
        self.nest.push(nest);
    }

    /// The substitution ends: the word it stood in goes on, in a part of its own (what is
    /// masked of it never covers the substitution).
    fn close(&mut self) {
        self.end_word();
        self.tokens.push(Token::Close);
        self.word = self.outer.pop().flatten();
    }

    /// One step inside `"..."`.
    fn double_quoted(&mut self, i: usize, next: Option<u8>) -> usize {
        match self.s.as_bytes()[i] {
            b'"' => {
                self.nest.pop();
                self.open_part();
                i + 1
            }
            b'\\' if next == Some(b'\n') => i + 2,
            b'\\' if next.is_some_and(|n| b"$`\"\\".contains(&n)) => self.push_char(i + 1, i),
            b'$' if next == Some(b'(') => {
                self.open(Nest::Substitution(0));
                i + 2
            }
            b'`' => {
                self.open(Nest::Backtick);
                i + 1
            }
            _ => self.push_char(i, i),
        }
    }

    /// `'...'` (or `$'...'` with backslash escapes) from `i`, just after the quote.
    fn single_quoted(&mut self, mut i: usize, escapes: bool) -> usize {
        self.open_part();
        let b = self.s.as_bytes();
        while i < b.len() && b[i] != b'\'' {
            i = if escapes && b[i] == b'\\' && i + 1 < b.len() {
                self.push_char(i + 1, i)
            } else {
                self.push_char(i, i)
            };
        }
        self.part += 1;
        i + 1
    }

    fn redirect(&mut self, mut i: usize) -> usize {
        // `2>`: the digits glued before the operator are its descriptor, not a word.
        if self.word.as_ref().is_some_and(|w| {
            w.value.bytes().all(|c| c.is_ascii_digit()) && w.parts.iter().all(|p| *p == self.part)
        }) {
            self.word = None;
        }
        self.end_word();
        self.tokens.push(Token::Redirect);
        let b = self.s.as_bytes();
        let start = i;
        while i < b.len() && b"<>&".contains(&b[i]) {
            i += 1;
        }
        if &b[start..i] == b"<<" {
            let dash = b.get(i) == Some(&b'-');
            self.delimiter_next = Some(dash);
            i += usize::from(dash);
        }
        i
    }

    /// The bodies of the pending here-documents, from `i` (just after a newline), each to the
    /// line that is its delimiter (after tabs, for `<<-`); returns where the lexing goes on.
    fn heredoc_bodies(&mut self, mut i: usize) -> usize {
        for (delimiter, dash) in std::mem::take(&mut self.heredocs) {
            let start = i;
            let mut end = self.s.len();
            while i < self.s.len() {
                let line_end =
                    memchr::memchr(b'\n', &self.s.as_bytes()[i..]).map_or(self.s.len(), |e| i + e);
                let line = &self.s[i..line_end];
                let line = if dash {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if line == delimiter {
                    end = i;
                    i = line_end;
                    break;
                }
                i = (line_end + 1).min(self.s.len());
            }
            self.tokens.push(Token::Text(start..end.max(start)));
        }
        i
    }

    /// `# ...` to the end of the line: a word of its own (the word rules still apply to it).
    fn comment(&mut self, i: usize) -> usize {
        let end = memchr::memchr(b'\n', &self.s.as_bytes()[i..]).map_or(self.s.len(), |e| i + e);
        self.operator();
        let mut word = Word::default();
        word.value.push_str(&self.s[i..end]);
        word.spans = (i..end).map(|k| (k, k + 1)).collect();
        word.parts = vec![self.part; end - i];
        self.tokens.push(Token::Word(word));
        self.operator();
        end
    }

    /// Appends the character at `at` to the word, its span starting at `from` (a backslash).
    fn push_char(&mut self, at: usize, from: usize) -> usize {
        let len = self.s[at..].chars().next().map_or(1, char::len_utf8);
        let part = self.part;
        let word = self.word.get_or_insert_with(Word::default);
        word.value.push_str(&self.s[at..at + len]);
        for k in 0..len {
            let start = if k == 0 { from } else { at + k };
            word.spans.push((start, at + k + 1));
            word.parts.push(part);
        }
        at + len
    }

    /// A quote starts or ends a part of the word (and starts the word: `''` is a word).
    fn open_part(&mut self) {
        self.part += 1;
        self.word.get_or_insert_with(Word::default);
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            if let Some(dash) = self.delimiter_next.take() {
                self.heredocs.push((word.value.clone(), dash));
            }
            self.tokens.push(Token::Word(word));
        }
        self.part += 1;
    }

    fn operator(&mut self) {
        self.end_word();
        self.tokens.push(Token::Break);
    }
}

/// The simple commands of a script: each one's words; the words that are not arguments
/// (redirection targets, comments) and the here-documents' bodies apart.
pub(super) fn commands(tokens: &[Token]) -> Commands<'_> {
    let mut commands: Vec<Vec<&Word>> = vec![Vec::new()];
    // The command words go to, and those that open substitutions stand in.
    let mut current = 0;
    let mut outer = Vec::new();
    let mut others = Vec::new();
    let mut texts = Vec::new();
    let mut redirect = false;
    for token in tokens {
        match token {
            Token::Break | Token::Open | Token::Close => {
                redirect = false;
                let resumed = match token {
                    Token::Open => {
                        outer.push(current);
                        None
                    }
                    Token::Close => outer.pop(),
                    _ => None,
                };
                current = resumed.unwrap_or_else(|| {
                    commands.push(Vec::new());
                    commands.len() - 1
                });
            }
            Token::Redirect => redirect = true,
            Token::Text(range) => texts.push(range.clone()),
            Token::Word(w) if std::mem::take(&mut redirect) => others.push(w),
            Token::Word(w) => commands[current].push(w),
        }
    }
    commands.retain(|c| !c.is_empty());
    Commands {
        commands,
        others,
        texts,
    }
}

/// A script's parts, as [`commands`] sorts them.
pub(super) struct Commands<'a> {
    /// Each simple command's words.
    pub commands: Vec<Vec<&'a Word>>,
    /// Words that are not arguments: redirection targets, comments.
    pub others: Vec<&'a Word>,
    /// Here-documents' bodies.
    pub texts: Vec<Range<usize>>,
}
