//! `plain`: the bytes exactly as the command wrote them, nothing added. Recorded input
//! (`--log-input`) is not output, and is left out.

use super::Formatter;
use crate::dest::Out;
use crate::event::{Chunk, Stream};

#[derive(Debug, Default)]
pub struct PlainFormatter;

impl Formatter for PlainFormatter {
    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Out) {
        if ev.stream != Stream::Stdin {
            out.extend_from_slice(ev.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Step::*, run};
    use super::*;
    use crate::event::{Status, Stream::*};

    #[test]
    fn passes_bytes_through_and_adds_nothing() {
        let got = run(
            &mut PlainFormatter,
            &[
                Start,
                Chunk(Stdout, 0, b"a\r\nb"),
                Pause,
                Chunk(Stderr, 5, b"c"),
                Chunk(Stdin, 6, b"typed\n"),
                Exit(Status::Code(3)),
            ],
        );
        assert_eq!(got, "a\r\nbc");
    }
}
