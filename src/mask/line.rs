//! The line masker: SQL's password clauses (see [`super::sql`]) and the command-line rules,
//! applied line by line to recorded input and to a SQL client's output.

use super::sql::{SqlMasker, mask_sql};
use super::*;

/// One line of a script (shell or SQL) as it may be logged: every literal that follows a
/// password keyword of SQL, and whatever the command-line rules find (URIs, conninfo, secret
/// variables, client options in a shell line), masked.
pub fn text_line(line: &str) -> String {
    line_rules(&mask_sql(line))
}

/// The command-line rules for a line whose SQL is masked already.
fn line_rules(sql: &str) -> String {
    let shell = if sql.contains(['\'', '"']) && shlex::split(sql).is_none() {
        // Unbalanced quotes: not a shell line; the forms that need no split still apply.
        mask_assignment(sql)
    } else {
        mask_script(sql)
    };
    mask_conninfo(&mask_uris(&shell))
}

/// Masks the streams it is given: SQL statements as a stream (see [`SqlMasker`]), then each
/// line with the command-line rules and every secret learned from a masked literal so far (in
/// any stream: psql's `LINE 2: 'x' ...` quotes a password without its keyword). A partial line
/// is held until its newline, [`crate::format::MAX_LINE`] bytes (cut at a character boundary),
/// or the end; the bytes of a line that are not UTF-8 pass unchanged.
#[derive(Debug, Default)]
pub struct LineMasker {
    sql: [SqlMasker; 3],
    held: [Vec<u8>; 3],
    learned: Vec<Vec<u8>>,
}

impl LineMasker {
    /// Appends to `out` the whole lines of `bytes`, masked; keeps the partial line.
    pub fn chunk(&mut self, stream: crate::event::Stream, bytes: &[u8], out: &mut Vec<u8>) {
        let i = stream.index();
        self.sql[i].chunk(bytes, &mut self.held[i]);
        self.learn(i);
        let held = &self.held[i];
        let max = crate::format::MAX_LINE;
        let whole = match memchr::memrchr(b'\n', held) {
            Some(n) => n + 1,
            None if held.len() >= max => character_cut(&held[..max]),
            None => return,
        };
        let lines: Vec<u8> = self.held[i].drain(..whole).collect();
        for line in lines.split_inclusive(|b| *b == b'\n') {
            self.line(line, out);
        }
    }

    /// Appends what is held for `stream`, masked (the stream has ended).
    pub fn finish(&mut self, stream: crate::event::Stream, out: &mut Vec<u8>) {
        let i = stream.index();
        self.sql[i].finish(&mut self.held[i]);
        self.learn(i);
        let held = std::mem::take(&mut self.held[i]);
        if !held.is_empty() {
            self.line(&held, out);
        }
    }

    fn learn(&mut self, i: usize) {
        for secret in self.sql[i].learned.drain(..) {
            if !self.learned.contains(&secret) {
                self.learned.push(secret);
            }
        }
        self.learned.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    fn line(&self, line: &[u8], out: &mut Vec<u8>) {
        let mut masked = Vec::with_capacity(line.len());
        for piece in line.utf8_chunks() {
            masked.extend_from_slice(line_rules(piece.valid()).as_bytes());
            masked.extend_from_slice(piece.invalid());
        }
        let mut rest = masked.as_slice();
        while let Some((at, len)) = self
            .learned
            .iter()
            .filter_map(|s| memchr::memmem::find(rest, s).map(|at| (at, s.len())))
            .min_by_key(|&(at, len)| (at, std::cmp::Reverse(len)))
        {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(MASK.as_bytes());
            rest = &rest[at + len..];
        }
        out.extend_from_slice(rest);
    }
}

/// The length of `b` less a UTF-8 character it ends inside of (at most 3 bytes), so that a
/// line cut at a bound keeps its characters whole (and its text masked: a piece that is not
/// UTF-8 would not be).
fn character_cut(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let at = b.len() - back;
        if b[at] & 0xC0 != 0x80 {
            return match std::str::from_utf8(&b[at..]) {
                Err(e) if e.error_len().is_none() && at > 0 => at,
                _ => b.len(),
            };
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::super::sql::tests::text_of;
    use super::*;
    use crate::event::Stream::{Stderr, Stdin};

    #[test]
    fn command_line_rules_apply_to_each_line() {
        for (line, masked) in [
            (
                "export PGPASSWORD=hunter22; psql postgresql://app:pw@db/app\n",
                "export PGPASSWORD=***; psql postgresql://app:***@db/app\n",
            ),
            ("mysql -uroot -pS3cret shop\n", "mysql -uroot -p*** shop\n"),
        ] {
            assert_eq!(text_line(line), masked, "{line}");
        }
    }

    #[test]
    fn any_text_is_masked_without_a_panic() {
        // Random lines of every kind of character, with the words the rules look for sprinkled
        // in: the masker runs on whatever a script holds.
        let words = [
            "password",
            "PASSWORD",
            "by",
            "=",
            "'",
            "\"",
            "(",
            "://",
            "@",
            ":",
            "é",
            "€",
            "Ҵ",
            "\\",
            " ",
            ";",
            "PGPASSWORD=",
            "-p",
            "mysql",
            "sh",
            "-c",
            "&&",
            "|",
            "\n",
            "?",
            "&password=",
            "MASTER_PASSWORD",
            "$",
            "$t$",
            "E'",
            "U&'",
            "for",
            "replace",
            "_x'",
            "identified",
        ];
        let mut next = crate::format::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = next() % 12;
            let line: String = (0..len)
                .map(|_| match next() % 3 {
                    0 => words[(next() % words.len() as u64) as usize].to_owned(),
                    1 => char::from_u32((next() % 0x2000) as u32)
                        .unwrap_or('x')
                        .to_string(),
                    _ => "x".to_owned(),
                })
                .collect();
            let _ = text_line(&line);
        }
    }

    #[test]
    fn the_line_masker_keeps_the_statement_across_lines_and_holds_a_partial_line() {
        let mut m = LineMasker::default();
        let mut out = Vec::new();
        m.chunk(Stdin, b"CREATE USER a IDENTIFIED BY 'sec", &mut out);
        assert!(out.is_empty());
        m.chunk(Stdin, b"ret';\nselect 1;\nIDENTIFIED BY\n", &mut out);
        assert_eq!(
            text_of(&out),
            "CREATE USER a IDENTIFIED BY '***';\nselect 1;\n"
        );
        out.clear();
        m.chunk(Stdin, b" 'x\nyz' garbage;\n", &mut out);
        assert_eq!(text_of(&out), "IDENTIFIED BY\n '***' garbage;\n");
        out.clear();
        m.chunk(Stdin, b"IDENTIFIED BY 'x", &mut out);
        m.finish(Stdin, &mut out);
        assert_eq!(out, b"IDENTIFIED BY '***");
        out.clear();
        m.chunk(Stdin, b"\xff by 'x'\n", &mut out);
        assert_eq!(
            out, b"\xff by '***'\n",
            "not UTF-8: the SQL is masked still"
        );
    }

    #[test]
    fn a_learned_password_is_masked_where_it_shows_again_in_any_stream() {
        // psql quotes the line of the error alone: `LINE 2: 'S3cretX' garbage;`.
        let mut m = LineMasker::default();
        let mut out = Vec::new();
        m.chunk(
            Stdin,
            b"ALTER ROLE a PASSWORD\n'S3cretX' garbage;\n",
            &mut out,
        );
        m.chunk(Stderr, b"LINE 2: 'S3cretX' garbage;\n", &mut out);
        m.chunk(Stderr, b"ORDER BY 'name' name\n", &mut out);
        assert_eq!(
            text_of(&out),
            "ALTER ROLE a PASSWORD\n'***' garbage;\nLINE 2: '***' garbage;\nORDER BY '***' name\n",
            "a literal after a plain BY is masked but not learned"
        );
    }

    #[test]
    fn a_line_over_the_bound_is_cut_at_a_character_and_its_clause_still_masked() {
        let max = crate::format::MAX_LINE;
        let mut text = "é".repeat(max / 2 - 10).into_bytes();
        text.extend_from_slice(b"x IDENTIFIED BY 'S3cret-p");
        text.extend_from_slice("é".repeat(20).as_bytes());
        text.extend_from_slice(b"assword' garbage;\n");
        for cut in [max - 3, max - 1, max, max + 7] {
            let mut m = LineMasker::default();
            let mut out = Vec::new();
            m.chunk(Stdin, &text[..cut], &mut out);
            m.chunk(Stdin, &text[cut..], &mut out);
            m.finish(Stdin, &mut out);
            let out = String::from_utf8(out).expect("cut at a character boundary");
            assert!(out.ends_with("x IDENTIFIED BY '***' garbage;\n"), "{cut}");
            assert!(
                !out.contains("S3cret") && !out.contains("assword'"),
                "{cut}"
            );
        }
    }

    #[test]
    fn a_line_cut_at_the_bound_inside_a_character_is_still_masked() {
        let max = crate::format::MAX_LINE;
        let mut text = b"export PGPASSWORD=hunter22 ".to_vec();
        assert!(text.len() % 2 == 1, "the bound falls inside a character");
        text.extend_from_slice("é".repeat(max / 2).as_bytes());
        text.push(b'\n');
        let mut m = LineMasker::default();
        let mut out = Vec::new();
        m.chunk(Stdin, &text, &mut out);
        let out = String::from_utf8(out).expect("whole characters");
        assert!(out.starts_with("export PGPASSWORD=*** é"), "{}", &out[..40]);
        assert!(!out.contains("hunter22"));
    }
}
