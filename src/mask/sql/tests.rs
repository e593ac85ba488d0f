//! The statement masker's forms, each masked alone and cut at every byte.

use super::*;

/// Each statement form with its masked result.
const CLAUSES: &[(&str, &str)] = &[
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
        "select 'by the way', password_hash from users where name = 'o''brien';\n",
        "select 'by the way', password_hash from users where name = 'o''brien';\n",
    ),
    ("ORDER BY 'x'", "ORDER BY '***'"),
    // The password on the next line, after blank lines.
    (
        "CREATE USER a IDENTIFIED BY\n\n  'S3cret';\n",
        "CREATE USER a IDENTIFIED BY\n\n  '***';\n",
    ),
    (
        "ALTER ROLE a PASSWORD\n'S3cret';\n",
        "ALTER ROLE a PASSWORD\n'***';\n",
    ),
    // A literal over lines, escapes, PostgreSQL's quotings.
    ("PASSWORD 'S3\ncr\net' x", "PASSWORD '***' x"),
    ("PASSWORD E'S3\\'cr\\\\et' x", "PASSWORD E'***' x"),
    ("PASSWORD e'S3''cret';", "PASSWORD e'***';"),
    ("PASSWORD $$S3'c$r$$;", "PASSWORD $$***$$;"),
    ("PASSWORD $tag$S3$ta$cret$tag$;", "PASSWORD $tag$***$tag$;"),
    ("PASSWORD U&'S3\\0063ret';", "PASSWORD U&'***';"),
    (
        "IDENTIFIED BY _utf8mb4'S3cret';",
        "IDENTIFIED BY _utf8mb4'***';",
    ),
    // SET PASSWORD FOR, with the user quoted, and the old function.
    (
        "SET PASSWORD FOR 'u'@'h=x' = 'S3cret';",
        "SET PASSWORD FOR 'u'@'h=x' = '***';",
    ),
    (
        "set password for u@localhost = password('S3cret');",
        "set password for u@localhost = password('***');",
    ),
    (
        "SET PASSWORD FOR u = OLD_PASSWORD('S3cret');",
        "SET PASSWORD FOR u = OLD_PASSWORD('***');",
    ),
    (
        "ALTER USER u IDENTIFIED BY 'new1' REPLACE 'old1';",
        "ALTER USER u IDENTIFIED BY '***' REPLACE '***';",
    ),
    // mysql's error quotes the rest of the statement.
    (
        "near 'REPLACE 'old1' garbage' at line 1",
        "near 'REPLACE '***' garbage' at line 1",
    ),
    (
        "select replace('a', 'b', 'c'), password_expired from t;",
        "select replace('a', 'b', 'c'), password_expired from t;",
    ),
    ("PASSWORD EXPIRE NEVER;", "PASSWORD EXPIRE NEVER;"),
    ("\\password app\nS3cret\n", "\\password app\nS3cret\n"),
    (
        "\u{e9} by '\u{e9}t\u{e9}' \u{20ac}",
        "\u{e9} by '***' \u{20ac}",
    ),
    // Unterminated: masked to the end.
    ("IDENTIFIED BY 'S3cret", "IDENTIFIED BY '***"),
    ("IDENTIFIED BY 'S3cret'", "IDENTIFIED BY '***'"),
];

/// Every statement form, masked alone and fed in two pieces cut at every byte.
#[test]
fn sql_password_clauses_are_masked_in_every_form_and_at_every_cut() {
    for &(text, masked) in CLAUSES {
        assert_eq!(mask_sql(text), masked, "{text:?}");
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut m = SqlMasker::default();
            let mut out = Vec::new();
            m.chunk(&bytes[..cut], &mut out);
            m.chunk(&bytes[cut..], &mut out);
            m.finish(&mut out);
            assert_eq!(text_of(&out), masked, "{text:?} cut at {cut}");
        }
    }
}

pub(in crate::mask) fn text_of(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn only_what_could_begin_a_clause_is_held() {
    let mut m = SqlMasker::default();
    let mut out = Vec::new();
    m.chunk(b"select 1; -- a comment", &mut out);
    assert_eq!(out, b"select 1; -- a comment");
    m.chunk(b" with a pass", &mut out);
    assert_eq!(
        out, b"select 1; -- a comment with a ",
        "'pass' may be PASSWORD"
    );
    m.chunk(b"word 'S3cr", &mut out);
    assert_eq!(text_of(&out), "select 1; -- a comment with a password '***");
    m.chunk(b"et' then", &mut out);
    assert_eq!(
        text_of(&out),
        "select 1; -- a comment with a password '***' then"
    );
}

/// A client's error line quoting a statement (MariaDB's `near '...'`, quotes not doubled,
/// psql's `LINE n:`) leaves no literal open: the statement after it is masked.
const ERROR_LINES: &[(&str, &str)] = &[
    (
        "ERROR 1064 (42000) at line 1: ... near 'REPLACE 'Sekr1t-old'' at line 1\n\
         SET PASSWORD FOR 'nobody_z'@'localhost' = 'Sekr1t-three';\n",
        "ERROR 1064 (42000) at line 1: ... near 'REPLACE '***'' at line 1\n\
         SET PASSWORD FOR 'nobody_z'@'localhost' = '***';\n",
    ),
    // A doubled quote inside the password, quoted as it was written.
    (
        "ERROR 1064 (42000) at line 3: ... near 'REPLACE 'ol''d-pw'' at line 1\r\n\
         ALTER USER u IDENTIFIED BY 'Sekr1t-new';\n",
        "ERROR 1064 (42000) at line 3: ... near 'REPLACE '***'' at line 1\r\n\
         ALTER USER u IDENTIFIED BY '***';\n",
    ),
    // A `''` that is not the client's ending, then one that is.
    (
        "ERROR 1064 (42000): near 'BY 'a'' at lines'' at line 12\nPASSWORD 'Sekr1t-x'\n",
        "ERROR 1064 (42000): near 'BY '***'' at line 12\nPASSWORD '***'\n",
    ),
    // Quotes left open by the client (cut, or a keyword just before its closing quote):
    // the line's end closes them, and `SET PASSWORD FOR` waiting for its `=` too.
    (
        "ERROR 1064 (42000): near 'PASSWORD 'Sekr1t-cut at line 1\nselect 'x', 1;\n",
        "ERROR 1064 (42000): near 'PASSWORD '***\nselect 'x', 1;\n",
    ),
    (
        "ERROR 1064 (42000): near 'FOR 'u'@'h'' at line 1\nselect 'a' = 'b';\n",
        "ERROR 1064 (42000): near 'FOR 'u'@'h'' at line 1\nselect 'a' = 'b';\n",
    ),
    (
        "ERROR 1064 (42000): near 'PASSWORD FOR 'u'@'h' at line 1\nselect 'a' = 'b';\n",
        "ERROR 1064 (42000): near 'PASSWORD FOR 'u'@'h' at line 1\nselect 'a' = 'b';\n",
    ),
    (
        "LINE 1: ...ROLE a PASSWORD 'Sekr1t\nALTER ROLE b PASSWORD 'Sekr1t-y';\n",
        "LINE 1: ...ROLE a PASSWORD '***\nALTER ROLE b PASSWORD '***';\n",
    ),
    // Out of an error line, a literal over lines and a doubled quote are SQL's as before.
    ("PASSWORD 'a'' at line 1\nb' x\n", "PASSWORD '***' x\n"),
];

#[test]
fn a_client_error_line_quoting_a_statement_leaves_no_literal_open() {
    for &(text, masked) in ERROR_LINES {
        assert_eq!(mask_sql(text), masked, "{text:?}");
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut m = SqlMasker::default();
            let mut out = Vec::new();
            m.chunk(&bytes[..cut], &mut out);
            m.chunk(&bytes[cut..], &mut out);
            m.finish(&mut out);
            assert_eq!(text_of(&out), masked, "{text:?} cut at {cut}");
        }
    }
    let mut m = SqlMasker::default();
    let mut out = Vec::new();
    m.chunk(ERROR_LINES[1].0.as_bytes(), &mut out);
    assert!(m.learned.contains(&b"ol'd-pw".to_vec()), "{:?}", m.learned);
}
