//! Where records go: the `-o` grammar (`spec`). (The file, datagram and remote destinations
//! themselves still live in `sink` and `remote`.)

pub mod spec;
