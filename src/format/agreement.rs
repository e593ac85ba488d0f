//! The formatters agree on what `teelog replay` needs: classic fed the records jsonl wrote (one
//! chunk per record, a pause before each `after_pause`, as `crate::replay` feeds them) writes
//! what classic fed the live events wrote, for random chunks, pauses, long lines and times.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use super::testing::{ctx, exit, start, xorshift};
use super::{ClassicFormatter, Formatter, JsonlFormatter, MAX_LINE};
use crate::dest::Out;
use crate::event::{Chunk, Exit, Status, Stream};

enum Event {
    Chunk(Stream, SystemTime, Vec<u8>),
    Pause,
}

/// Feeds `f` the run and returns all it wrote.
fn live(f: &mut dyn Formatter, events: &[Event], end: &Exit) -> Vec<u8> {
    let mut all = Vec::new();
    let mut out = Out::default();
    f.start(&start(), &mut out);
    all.extend_from_slice(&out);
    for ev in events {
        out.clear();
        match ev {
            Event::Chunk(stream, time, bytes) => f.chunk(
                &Chunk {
                    stream: *stream,
                    time: *time,
                    bytes,
                },
                &mut out,
            ),
            Event::Pause => f.pause(&mut out),
        }
        all.extend_from_slice(&out);
    }
    out.clear();
    f.exit(end, &mut out);
    all.extend_from_slice(&out);
    all
}

fn time(record: &Value) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(record["timestamp"].as_str().unwrap())
        .unwrap()
        .into()
}

/// Classic rebuilt from jsonl's records, as replay rebuilds it.
fn replayed(jsonl: &[u8]) -> Vec<u8> {
    let mut f = ClassicFormatter::new(&ctx());
    let mut all = Vec::new();
    let mut out = Out::default();
    for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let r: Value = serde_json::from_slice(line).unwrap();
        out.clear();
        match r["type"].as_str().unwrap() {
            "start" => {
                assert_eq!(r["marks_pauses"], true);
                let mut ev = start();
                ev.time = time(&r);
                f.start(&ev, &mut out);
            }
            "output" => {
                if r.get("after_pause") == Some(&Value::Bool(true)) {
                    f.pause(&mut out);
                }
                let mut bytes = match r.get("bytes") {
                    Some(b) => BASE64.decode(b.as_str().unwrap()).unwrap(),
                    None => r["message"].as_str().unwrap().as_bytes().to_vec(),
                };
                if r.get("eol") != Some(&Value::Bool(false)) {
                    bytes.push(b'\n');
                }
                let stream = Stream::from_name(r["stream"].as_str().unwrap()).unwrap();
                f.chunk(
                    &Chunk {
                        stream,
                        time: time(&r),
                        bytes: &bytes,
                    },
                    &mut out,
                );
            }
            "exit" => {
                let mut ev = exit(Status::Code(r["code"].as_i64().unwrap() as i32));
                ev.time = time(&r);
                ev.duration = super::duration_of(r["duration_s"].as_f64().unwrap());
                f.exit(&ev, &mut out);
            }
            other => panic!("{other}"),
        }
        all.extend_from_slice(&out);
    }
    all
}

#[test]
fn classic_rebuilt_from_the_jsonl_records_is_the_live_classic() {
    let mut next = xorshift(0x5851_f42d_4c95_7f2d);
    // Valid UTF-8 and bytes that are never part of a character (0xff), cut into chunks at any
    // byte, so that characters are split by reads and pauses. (A pause right after an invalid
    // lead byte that an incomplete character follows is not rebuilt exactly: see the README.)
    let tokens: [&[u8]; 12] = [
        b"a",
        b"bc",
        b" ",
        b"\n",
        b"\n",
        b"\n",
        "é".as_bytes(),
        "€".as_bytes(),
        "😀".as_bytes(),
        b"\xff",
        b"\r",
        b"\t",
    ];
    for round in 0..300 {
        let (events, end) = random_run(&mut next, &tokens, round);
        let classic = live(&mut ClassicFormatter::new(&ctx()), &events, &end);
        let jsonl = live(&mut JsonlFormatter::new(&ctx()), &events, &end);
        let rebuilt = replayed(&jsonl);
        if classic != rebuilt {
            let at = classic
                .iter()
                .zip(&rebuilt)
                .position(|(a, b)| a != b)
                .unwrap_or(classic.len().min(rebuilt.len()));
            let around = |b: &[u8]| {
                String::from_utf8_lossy(&b[at.saturating_sub(60)..(at + 120).min(b.len())])
                    .into_owned()
            };
            panic!(
                "round {round}: live ({} bytes) and replayed ({} bytes) differ at byte {at}:\n\
                 --- live\n{:?}\n--- replayed\n{:?}",
                classic.len(),
                rebuilt.len(),
                around(&classic),
                around(&rebuilt)
            );
        }
    }
}

/// The events of one random run for [`classic_rebuilt_from_the_jsonl_records_is_the_live_classic`]:
/// chunks of `tokens` on every stream, pauses, long lines on one stream a round, and the exit.
fn random_run(
    next: &mut impl FnMut() -> u64,
    tokens: &[&[u8]],
    round: usize,
) -> (Vec<Event>, Exit) {
    let mut events = Vec::new();
    let mut pending: [Vec<u8>; 3] = Default::default();
    let long_stream = Stream::ALL[round % 3];
    // From 22:13:13 on, steps of up to 0.7 s: prompts cross seconds at every place.
    let mut t = super::testing::at(next() % 1_000_000);
    for _ in 0..(next() % 30) {
        t += Duration::from_micros(next() % 700_000);
        let stream = match next() % 7 {
            0 | 1 => Stream::Stderr,
            2 => Stream::Stdin,
            _ => Stream::Stdout,
        };
        let bytes = &mut pending[stream.index()];
        for _ in 0..next() % 8 {
            bytes.extend_from_slice(tokens[(next() % tokens.len() as u64) as usize]);
        }
        // Now and then a long run without a newline: pieces, cut anywhere in a character.
        // On one stream a round: two streams each in the middle of a line over 64 KiB, one
        // of them cut a few bytes short to keep a character whole, are not rebuilt exactly
        // in every order (see `super::lines::long_partial`).
        if stream == long_stream && next().is_multiple_of(6) {
            let fill = if next().is_multiple_of(2) {
                "x"
            } else {
                "é€"
            };
            bytes.extend(
                fill.repeat((next() % (3 * MAX_LINE as u64)) as usize / 3)
                    .bytes(),
            );
        }
        let take = (next() as usize % (bytes.len() + 1)).max(bytes.len().min(1));
        let chunk: Vec<u8> = bytes.drain(..take).collect();
        if !chunk.is_empty() {
            events.push(Event::Chunk(stream, t, chunk));
        }
        if next().is_multiple_of(3) {
            events.push(Event::Pause);
        }
    }
    for stream in Stream::ALL {
        let rest = std::mem::take(&mut pending[stream.index()]);
        if !rest.is_empty() {
            events.push(Event::Chunk(stream, t, rest));
        }
    }
    let mut end = exit(Status::Code(0));
    end.time = t + Duration::from_micros(next() % 3_000);
    // Durations that round differently from nanoseconds and from the float read back.
    end.duration = Duration::from_nanos(1_000_000_000 + (next() % 4) * 500_000 + next() % 999);
    (events, end)
}
