//! SQL's password clauses, and the line masker that applies them with the command-line rules
//! to recorded input and echoed statements.

use super::*;

/// SQL keywords after which a quoted string is a password: `IDENTIFIED BY 'x'` (and `BY
/// PASSWORD`, `WITH plugin BY`), `PASSWORD 'x'`, `PASSWORD = 'x'`, `PASSWORD('x')`,
/// `MASTER_PASSWORD = 'x'`, `ENCRYPTED PASSWORD 'x'`.
const SQL_SECRET_KEYWORDS: &[&str] = &["by", "password", "master_password"];

/// One line of a script (shell or SQL) as it may be logged: every quoted string that follows a
/// password keyword of SQL, and whatever the command-line rules find (URIs, conninfo, secret
/// variables, client options in a shell line), masked.
pub fn text_line(line: &str) -> String {
    let sql = mask_sql(line);
    let shell = if sql.contains(['\'', '"']) && shlex::split(&sql).is_none() {
        // Unbalanced quotes: not a shell line; the forms that need no split still apply.
        mask_assignment(&sql)
    } else {
        mask_script(&sql)
    };
    mask_conninfo(&mask_uris(&shell))
}

/// `... PASSWORD 'x'` and the other forms of [`SQL_SECRET_KEYWORDS`]: the quoted string's
/// contents become [`MASK`] (a doubled or escaped quote inside it included).
fn mask_sql(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let keyword = SQL_SECRET_KEYWORDS.iter().find(|k| {
            lower.as_bytes()[i..].starts_with(k.as_bytes())
                && (i == 0 || !is_word_byte(bytes[i - 1]))
                && !bytes.get(i + k.len()).is_some_and(|b| is_word_byte(*b))
        });
        let Some(keyword) = keyword else {
            i += 1;
            continue;
        };
        // Blanks, an optional `=` or `(`, blanks, then the quote.
        let mut j = i + keyword.len();
        let skip_blanks = |j: &mut usize| {
            while bytes.get(*j).is_some_and(u8::is_ascii_whitespace) {
                *j += 1;
            }
        };
        skip_blanks(&mut j);
        if matches!(bytes.get(j), Some(b'=' | b'(')) {
            j += 1;
            skip_blanks(&mut j);
        }
        let Some(&quote @ (b'\'' | b'"')) = bytes.get(j) else {
            i += keyword.len();
            continue;
        };
        // The closing quote: not doubled, not escaped.
        let mut k = j + 1;
        let mut end = None;
        while k < bytes.len() {
            match bytes[k] {
                b'\\' => k += 2,
                b if b == quote && bytes.get(k + 1) == Some(&quote) => k += 2,
                b if b == quote => {
                    end = Some(k);
                    break;
                }
                _ => k += 1,
            }
        }
        let end = end.unwrap_or(bytes.len());
        out.push_str(&line[copied..=j]);
        out.push_str(MASK);
        copied = end;
        i = end.max(j + 1);
    }
    out.push_str(&line[copied..]);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Applies [`text_line`] to the lines of the streams it is given, holding a partial line until
/// its newline (or [`crate::format::MAX_LINE`] bytes, or the end): a secret cannot be recognised
/// in half a line. Lines that are not UTF-8 pass unchanged.
#[derive(Debug, Default)]
pub struct LineMasker {
    held: [Vec<u8>; 3],
}

impl LineMasker {
    /// Appends to `out` the whole lines of `bytes`, masked; keeps the partial line.
    pub fn chunk(&mut self, stream: crate::event::Stream, bytes: &[u8], out: &mut Vec<u8>) {
        let held = &mut self.held[stream.index()];
        held.extend_from_slice(bytes);
        let whole = match memchr::memrchr(b'\n', held) {
            Some(n) => n + 1,
            None if held.len() >= crate::format::MAX_LINE => held.len(),
            None => return,
        };
        let lines: Vec<u8> = held.drain(..whole).collect();
        for line in lines.split_inclusive(|b| *b == b'\n') {
            mask_line_bytes(line, out);
        }
    }

    /// Appends what is held for `stream`, masked (the stream has ended).
    pub fn finish(&mut self, stream: crate::event::Stream, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held[stream.index()]);
        if !held.is_empty() {
            mask_line_bytes(&held, out);
        }
    }
}

fn mask_line_bytes(line: &[u8], out: &mut Vec<u8>) {
    match std::str::from_utf8(line) {
        Ok(text) => out.extend_from_slice(text_line(text).as_bytes()),
        Err(_) => out.extend_from_slice(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_password_clauses_and_script_lines_are_masked() {
        for (line, masked) in [
            (
                "CREATE USER 'app'@'%' IDENTIFIED BY 'S3cret!';\n",
                "CREATE USER 'app'@'%' IDENTIFIED BY '***';\n",
            ),
            (
                "alter user app identified with mysql_native_password by \"it's\";",
                "alter user app identified with mysql_native_password by \"***\";",
            ),
            (
                "SET PASSWORD = PASSWORD('x''y');",
                "SET PASSWORD = PASSWORD('***');",
            ),
            (
                "ALTER ROLE app WITH ENCRYPTED PASSWORD 'md5abc';",
                "ALTER ROLE app WITH ENCRYPTED PASSWORD '***';",
            ),
            (
                "CHANGE MASTER TO MASTER_PASSWORD='repl', MASTER_USER='r';",
                "CHANGE MASTER TO MASTER_PASSWORD='***', MASTER_USER='r';",
            ),
            (
                "export PGPASSWORD=hunter22; psql postgresql://app:pw@db/app\n",
                "export PGPASSWORD=***; psql postgresql://app:***@db/app\n",
            ),
            ("mysql -uroot -pS3cret shop\n", "mysql -uroot -p*** shop\n"),
            (
                "select 'by the way', password_hash from users where name = 'o''brien';\n",
                "select 'by the way', password_hash from users where name = 'o''brien';\n",
            ),
            ("ORDER BY 'x'", "ORDER BY '***'"),
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
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
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
    fn the_line_masker_holds_a_partial_line_until_its_end() {
        use crate::event::Stream::Stdin;
        let mut m = LineMasker::default();
        let mut out = Vec::new();
        m.chunk(Stdin, b"CREATE USER a IDENTIFIED BY 'sec", &mut out);
        assert!(out.is_empty());
        m.chunk(Stdin, b"ret';\nselect 1;\nIDENTIFIED BY 'x", &mut out);
        assert_eq!(out, b"CREATE USER a IDENTIFIED BY '***';\nselect 1;\n");
        out.clear();
        m.finish(Stdin, &mut out);
        assert_eq!(out, b"IDENTIFIED BY '***");
        out.clear();
        m.chunk(Stdin, b"\xff by 'x'\n", &mut out);
        assert_eq!(out, b"\xff by 'x'\n", "not UTF-8: unchanged");
    }
}
