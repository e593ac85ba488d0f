//! The filters between the command's streams and the formatters: the redactor (`--redact-env`)
//! and the ANSI stripper (`--strip-ansi`).

pub mod redact;
pub mod strip;
