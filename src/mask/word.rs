//! The rules that hold in any word of any command, whatever program it belongs to: secret-looking
//! names (of options, variables, headers, query parameters), `NAME=value` with such a name
//! anywhere in a word, URIs with a password, HTTP credentials, libpq's `password=`. They find
//! byte ranges ([`Edit`]s); [`apply`] replaces them, so every other byte stays as it was.

use std::borrow::Cow;
use std::ops::Range;

use super::MASK;

/// One replacement in a text: `range` becomes `with`: [`MASK`], nothing (the rest of a secret
/// that spans several quoted parts of a shell word: only the first part shows `***`), or a
/// masked copy of the range (a here-document's line, masked as recorded input is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Edit {
    pub range: Range<usize>,
    pub with: Cow<'static, str>,
}

impl Edit {
    pub fn mask(range: Range<usize>) -> Edit {
        Edit {
            range,
            with: Cow::Borrowed(MASK),
        }
    }

    /// The same replacement for another range; `first`: whether it shows the replacement
    /// (else it is the rest of a range cut in parts, and becomes nothing).
    pub fn moved(&self, range: Range<usize>, first: bool) -> Edit {
        Edit {
            range,
            with: if first {
                self.with.clone()
            } else {
                Cow::Borrowed("")
            },
        }
    }
}

/// `text` with `edits` applied (in any order; overlapping ones become one, which shows the
/// first replacement that is not nothing).
pub(super) fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().filter(|e| !e.range.is_empty()).collect();
    sorted.sort_by_key(|e| e.range.start);
    let mut merged: Vec<Edit> = Vec::with_capacity(sorted.len());
    for e in sorted {
        match merged.last_mut() {
            Some(last) if e.range.start < last.range.end => {
                last.range.end = last.range.end.max(e.range.end);
                if last.with.is_empty() {
                    last.with = e.with.clone();
                }
            }
            _ => merged.push(e.clone()),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for e in merged {
        out.push_str(&text[copied..e.range.start]);
        out.push_str(&e.with);
        copied = e.range.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether an option, variable, header or parameter of this name holds a secret: its name, in
/// any case and without `-`, `_` or `.`, ends in password, passwd, passphrase, pass, pwd (or is pw),
/// secret, token, api key, access key, secret key, private key, credential(s), auth, bearer,
/// cookie, passin or passout. Not: a negation (`no-password`, `ask-pass`, `skip-`, `without-`,
/// `prompt-`), `PWD`/`OLDPWD` (directories), `bypass`, `compass`.
pub(super) fn secret_name(name: &str) -> bool {
    let parts: Vec<String> = name
        .split(['-', '_', '.'])
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(first) = parts.first() else {
        return false;
    };
    if parts.len() > 1 && ["no", "ask", "skip", "without", "prompt"].contains(&first.as_str()) {
        return false;
    }
    let joined = parts.concat();
    if joined.starts_with("ask")
        || ["pwd", "oldpwd"].contains(&joined.as_str())
        || ["bypass", "compass"].iter().any(|s| joined.ends_with(s))
    {
        return false;
    }
    const ENDS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "secretkeybase",
        "credential",
        "credentials",
        "auth",
        "bearer",
        "cookie",
        "passin",
        "passout",
    ];
    // `pw` counts only as a whole part (`DB_PW`, `--pw`), not as the end of a longer word
    // (`kOgPw=` in random bytes recorded by --log-input).
    ENDS.iter().any(|end| joined.ends_with(end)) || parts.last().is_some_and(|last| last == "pw")
}

/// The part of an option's value that is secret: all of it, but only what follows `pass:` in
/// OpenSSL's `pass:SECRET`, and nothing in its other forms (`env:VAR`, `file:PATH`, `fd:N`,
/// `stdin`), which name where the secret is.
pub(super) fn option_value(value: &str) -> Option<Range<usize>> {
    if value.is_empty() || value == "stdin" {
        return None;
    }
    if let Some((kind, _)) = value.split_once(':') {
        match kind {
            "pass" => return Some(5..value.len()).filter(|r| !r.is_empty()),
            "env" | "file" | "fd" => return None,
            _ => {}
        }
    }
    Some(0..value.len())
}

/// Every rule of this module, on one word (a whole argv word, or one word of a shell script).
pub(super) fn word_edits(word: &str) -> Vec<Edit> {
    let mut ranges = uri_ranges(word);
    ranges.extend(assignment_ranges(word, true));
    ranges.extend(conninfo_ranges(word));
    ranges.extend(header_ranges(word));
    ranges.into_iter().map(Edit::mask).collect()
}

/// The bytes of a name of options, variables and keys.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Values of `NAME=value` where NAME is a [`secret_name`], anywhere in `text` (`PGPASSWORD=x`,
/// `--token=x`, `--env=MYSQL_PWD=x`, `-eAPI_TOKEN=x`, `-Ddb.password=x`,
/// `--from-literal=password=x`). With `whole` (`text` is one word), a value that starts the word
/// or follows another `=` runs to the end of the word, spaces included (`MYSQL_PWD=se cret` as env
/// takes it), up to a blank followed by another `name=` (libpq's conninfo); any other value ends
/// at a blank or a shell operator, a quote or a comma. A value in quotes ends at its quote.
pub(super) fn assignment_ranges(text: &str, whole: bool) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(eq) = memchr::memchr(b'=', &b[i..]).map(|e| e + i) {
        i = eq + 1;
        let start = b[..eq]
            .iter()
            .rposition(|&c| !is_name_byte(c))
            .map_or(0, |p| p + 1);
        if start == eq || !secret_name(&text[start..eq]) || b[start].is_ascii_digit() {
            continue;
        }
        let value = eq + 1;
        let end = if let Some(&q @ (b'\'' | b'"')) = b.get(value) {
            let close = b[value + 1..]
                .iter()
                .position(|&c| c == q)
                .map_or(b.len(), |p| value + 1 + p);
            out.push(value + 1..close);
            i = close;
            continue;
        } else if whole && (start == 0 || b[start - 1] == b'=') {
            conninfo_next(text, value).unwrap_or(b.len())
        } else {
            b[value..]
                .iter()
                .position(|c| b" \t\n;&|,'\"`()<>".contains(c))
                .map_or(b.len(), |p| value + p)
        };
        // Masked already (by SQL's rules before these): `***` and punctuation.
        let done = text[value..end]
            .strip_prefix(super::MASK)
            .is_some_and(|rest| !rest.contains(|c: char| c.is_alphanumeric()));
        if end > value && !done {
            out.push(value..end);
        }
        i = end.max(value);
    }
    out
}

/// The blank before the next `name=` after `from`, if any (`password=x dbname=y`).
fn conninfo_next(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    (from..b.len()).find(|&k| {
        b[k].is_ascii_whitespace() && {
            let rest = &b[k + 1..];
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            n > 0 && !rest[0].is_ascii_digit() && rest.get(n) == Some(&b'=')
        }
    })
}

/// libpq's `password = 'se cret'` (blanks around `=`, a quoted value with `\'`) in `text`.
pub(super) fn conninfo_ranges(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("password").map(|a| a + from) {
        from = at + "password".len();
        if at > 0 && !b[at - 1].is_ascii_whitespace() {
            continue;
        }
        let skip = |mut k: usize| {
            while b.get(k).is_some_and(u8::is_ascii_whitespace) {
                k += 1;
            }
            k
        };
        let eq = skip(from);
        if b.get(eq) != Some(&b'=') {
            continue;
        }
        let value = skip(eq + 1);
        let range = if b.get(value) == Some(&b'\'') {
            let mut k = value + 1;
            while k < b.len() && b[k] != b'\'' {
                k += if b[k] == b'\\' { 2 } else { 1 };
            }
            value + 1..k.min(b.len())
        } else {
            let end = b[value..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .map_or(b.len(), |p| value + p);
            value..end
        };
        from = range.end.max(from);
        if !range.is_empty() {
            out.push(range);
        }
    }
    out
}

/// `scheme://user:SECRET@host...`, wherever it appears: the password runs from the first `:` of
/// the userinfo to the last `@` before the host, whatever it holds (`/`, `?`, `#`, spaces; a URI
/// runs to the blank before the next `://`); and the value of a query parameter with a
/// [`secret_name`] (`?password=x`, `&access_token=x`).
pub(super) fn uri_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(sep) = text[from..].find("://").map(|s| s + from) {
        let start = sep + 3;
        let tail = &text[start..];
        let end = tail
            .find("://")
            .and_then(|next| tail[..next].rfind(char::is_whitespace))
            .unwrap_or(tail.len());
        let uri = &tail[..end];
        let mut rest = 0;
        if let Some(at) = uri.rfind('@')
            && let Some(colon) = uri[..at].find(':')
        {
            out.push(start + colon + 1..start + at);
            rest = at;
        }
        if let Some(q) = uri[rest..].find('?') {
            let mut p = rest + q + 1;
            for param in uri[p..].split(['&', ';']) {
                if let Some((key, value)) = param.split_once('=')
                    && secret_name(key)
                    && !value.is_empty()
                {
                    let value = value.split(char::is_whitespace).next().unwrap_or("");
                    let v = start + p + key.len() + 1;
                    out.push(v..v + value.len());
                }
                p += param.len() + 1;
            }
        }
        from = start + end;
    }
    out.retain(|r| !r.is_empty());
    out
}

/// HTTP credentials: `Authorization: Bearer SECRET` (and `Proxy-Authorization:`; the scheme
/// stays, `Authorization: SECRET` without one is masked whole), and `NAME: SECRET` or
/// `NAME:SECRET` for a [`secret_name`] NAME (`X-Api-Key: x`, `X-Auth-Token: x`, `Cookie: x`,
/// OpenSSL's `pass:x`). The value runs to the end of its line.
pub(super) fn header_ranges(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(colon) = memchr::memchr(b':', &b[i..]).map(|c| c + i) {
        i = colon + 1;
        let start = b[..colon]
            .iter()
            .rposition(|&c| !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_'))
            .map_or(0, |p| p + 1);
        let name = &text[start..colon];
        let authorization = ["authorization", "proxy-authorization"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n));
        if name.is_empty() || !(authorization || secret_name(name)) || b.get(i) == Some(&b'/') {
            continue;
        }
        let mut value = i;
        while b.get(value).is_some_and(|c| *c == b' ' || *c == b'\t') {
            value += 1;
        }
        let end = memchr::memchr(b'\n', &b[value..]).map_or(b.len(), |p| value + p);
        let mut from = value;
        if authorization {
            // `Bearer X`, `Basic X`: the scheme is a word followed by a blank.
            let scheme = b[value..end]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
                .count();
            if scheme > 0 && b.get(value + scheme) == Some(&b' ') {
                from = value + scheme;
                while b.get(from) == Some(&b' ') {
                    from += 1;
                }
            }
        }
        if end > from {
            out.push(from..end);
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_their_look_alikes() {
        for name in [
            "--password",
            "--passwd",
            "--pass",
            "-pass",
            "-passin",
            "-storepass",
            "--token",
            "--client-secret",
            "--api-key",
            "--apikey",
            "--auth",
            "--credentials",
            "--private-key",
            "--oauth2-bearer",
            "AWS_SECRET_ACCESS_KEY",
            "MYSQL_PWD",
            "PGPASSWORD",
            "SSHPASS",
            "REDISCLI_AUTH",
            "X-Api-Key",
            "X-Auth-Token",
            "Cookie",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "--passes",
            "--no-password",
            "--ask-pass",
            "--askpass",
            "--password-file",
            "--password-stdin",
            "--token-type",
            "--pass-through",
            "tokenize",
            "TOKENIZERS_PARALLELISM",
            "PWD",
            "OLDPWD",
            "PASSWORD_STORE_DIR",
            "MYSQL_PASSWORD_FILE",
            "--bypass",
            "--author",
            "--auth-source",
            "-p",
            "PATH",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn apply_keeps_every_byte_outside_the_edits() {
        let edits = [
            Edit::mask(2..4),
            Edit::mask(0..0).moved(6..8, false),
            Edit::mask(3..5),
        ];
        assert_eq!(apply("abcdefghij", &edits), "ab***fij");
    }
}
