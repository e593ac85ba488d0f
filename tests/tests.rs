//! One integration-test binary; every test runs the real `teelog` binary (see `util`).

mod command_line;
mod delivery;
mod destinations;
mod errors;
mod exit_status;
mod faults;
mod files;
mod formats;
mod live;
mod long_running;
mod man;
mod nothing_lost;
mod package;
mod presets;
mod recording;
mod replay;
mod rotation;
mod secrets;
mod signals;
mod splice;
mod tcp_syslog;
mod tools;
mod util;
mod volume;
