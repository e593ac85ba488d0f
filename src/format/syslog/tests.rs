use super::super::testing::{chunk, ctx, exit, start};
use super::*;
use crate::event::Status;
use crate::event::Stream::*;
use crate::format::Formatter;

fn messages(wire: Wire, steps: impl Fn(&mut SyslogFormatter, &mut Out)) -> Vec<String> {
    written(SyslogFormatter::new(&ctx(), wire, 1), steps)
}

fn written(mut f: SyslogFormatter, steps: impl Fn(&mut SyslogFormatter, &mut Out)) -> Vec<String> {
    let mut out = Out::default();
    f.start(&start(), &mut out);
    steps(&mut f, &mut out);
    f.exit(&exit(Status::Code(0)), &mut out);
    out.records()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect()
}

#[test]
fn rfc5424_over_the_network_with_structured_data() {
    let m = messages(Wire::Udp, |f, out| {
        f.chunk(&chunk(Stdout, 1, b"one\n"), out);
        f.chunk(&chunk(Stderr, 2, b"two\n"), out);
    });
    assert_eq!(m.len(), 4);
    assert_eq!(
        m[0],
        "<13>1 2012-10-30T22:13:13.000000Z db1 mysql 42 - [teelog@32473 session=\"S\" \
         seq=\"1\"] start: mysql -e 'select 1'"
    );
    assert_eq!(
        m[1],
        "<14>1 2012-10-30T22:13:13.000001Z db1 mysql 42 - [teelog@32473 session=\"S\" \
         seq=\"2\" stream=\"stdout\"] one"
    );
    assert!(m[2].starts_with("<11>1 "), "{}", m[2]);
    assert!(m[3].ends_with("] exit: status 0 after 1.235s"), "{}", m[3]);
    let tcp = messages(Wire::Tcp, |f, out| {
        f.chunk(&chunk(Stdout, 1, b"one\n"), out)
    });
    assert_eq!(tcp[1], m[1], "the same message: framing is the transport's");
}

#[test]
fn the_local_socket_gets_what_syslog3_sends() {
    let m = messages(Wire::Local, |f, out| {
        f.chunk(&chunk(Stdout, 1, b"one\n"), out)
    });
    let stamp = DateTime::<Local>::from(super::super::testing::at(1)).format("%b %e %H:%M:%S");
    assert_eq!(m[1], format!("<14>{stamp} mysql[42]: one"));
}

#[test]
fn a_line_longer_than_a_message_is_split_never_cut() {
    let long: Vec<u8> = "é".repeat(2000).into_bytes();
    let mut line = long.clone();
    line.push(b'\n');
    let line: &'static [u8] = Box::leak(line.into_boxed_slice());
    let m = messages(Wire::Udp, |f, out| f.chunk(&chunk(Stdout, 1, line), out));
    let pieces: Vec<&str> = m[1..m.len() - 1]
        .iter()
        .map(|msg| msg.split_once("\"] ").unwrap().1)
        .collect();
    assert!(pieces.len() >= 3, "{}", pieces.len());
    assert!(pieces.iter().all(|p| p.len() <= Wire::Udp.max_text()));
    assert_eq!(pieces.concat().as_bytes(), &long[..]);
    // Every piece carries the line's seq (jsonl's: the line is its second record) and its
    // number, and the exit message the next seq.
    for (i, msg) in m[1..m.len() - 1].iter().enumerate() {
        let label = format!(" seq=\"2\" piece=\"{}\" ", i + 1);
        assert!(msg.contains(&label), "{msg}");
    }
    assert!(m[m.len() - 1].contains(" seq=\"3\"]"), "{}", m[m.len() - 1]);
}

#[test]
fn a_shipped_long_line_is_one_message_and_the_next_seq_is_jsonls() {
    use crate::format::lines::MAX_LINE;
    // 100 KB arriving in three reads: jsonl makes it two records (64 KiB, the rest).
    let line: &'static [u8] = Box::leak([vec![b'x'; 100_000], b"\n".to_vec()].concat().into());
    let m = written(SyslogFormatter::shipped(&ctx(), 1, 128 * 1024), |f, out| {
        for part in [
            &line[..30_000],
            &line[30_000..MAX_LINE + 10],
            &line[MAX_LINE + 10..],
        ] {
            f.chunk(&chunk(Stdout, 1, part), out);
        }
        f.chunk(&chunk(Stdout, 2, b"next\n"), out);
    });
    assert_eq!(m.len(), 4, "start, the long line, next, exit");
    let (head, text) = m[1].split_once("\"] ").unwrap();
    assert_eq!(text.len(), 100_000);
    assert!(head.ends_with(" seq=\"2\" stream=\"stdout"), "{head}");
    assert!(
        m[2].contains(" seq=\"4\" ") && m[2].ends_with("] next"),
        "{}",
        m[2]
    );
    // Longer than a message: pieces of at most --max-message, numbered.
    let m = written(SyslogFormatter::shipped(&ctx(), 1, 4096), |f, out| {
        f.chunk(&chunk(Stdout, 1, line), out)
    });
    assert!(m[1..m.len() - 1].iter().all(|msg| msg.len() <= 4096));
    // jsonl's two records (seq 2 and 3), each in pieces numbered from 1.
    for seq in [2, 3] {
        let of_seq: Vec<&String> = m
            .iter()
            .filter(|msg| msg.contains(&format!(" seq=\"{seq}\" ")))
            .collect();
        assert!(of_seq.len() > 1);
        for (i, msg) in of_seq.iter().enumerate() {
            assert!(msg.contains(&format!(" piece=\"{}\" ", i + 1)), "{msg}");
            // Only the last message of the first record says the line goes on after it.
            let open = seq == 2 && i == of_seq.len() - 1;
            assert_eq!(msg.contains(" eol=\"false\""), open, "{msg}");
        }
    }
    // 200,000 bytes: more than one message of 128K takes; the first says the line goes on.
    let line: &'static [u8] = Box::leak([vec![b'y'; 200_000], b"\n".to_vec()].concat().into());
    let m = written(SyslogFormatter::shipped(&ctx(), 1, 128 * 1024), |f, out| {
        f.chunk(&chunk(Stdout, 1, line), out)
    });
    let texts: Vec<(&str, &str)> = m[1..m.len() - 1]
        .iter()
        .map(|msg| msg.split_once("] ").unwrap())
        .collect();
    assert_eq!(texts.iter().map(|(_, t)| t.len()).sum::<usize>(), 200_000);
    assert!(texts[0].0.contains(" eol=\"false\""), "{}", texts[0].0);
    assert!(
        !texts[texts.len() - 1].0.contains("eol="),
        "{}",
        texts[texts.len() - 1].0
    );
}
