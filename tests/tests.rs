//! One integration-test binary; every test runs the real `teelog` binary (see `util`). Its harness
//! is `harness` (libtest-mimic): each module ends with `trials![...]`, which lists its tests and
//! what each needs from the machine, so that a missing program shows as an ignored test.

mod certs;
mod collector;
mod command_line;
mod completions;
mod delivery;
mod destinations;
mod errors;
mod exit_status;
mod faults;
mod files;
mod filters;
mod formats;
mod harness;
mod layout;
mod live;
mod long_running;
mod man;
mod nothing_lost;
mod package;
mod presets;
mod prompts;
mod received;
mod recording;
mod replay;
mod rotation;
mod sealing;
mod secrets;
mod shipped;
mod shipping;
mod shipping_tls;
mod signals;
mod splice;
mod sudo_iolog;
mod tcp_syslog;
mod tools;
mod util;
mod volume;

fn main() {
    let tests = [
        collector::trials(),
        command_line::trials(),
        completions::trials(),
        delivery::trials(),
        destinations::trials(),
        errors::trials(),
        exit_status::trials(),
        faults::trials(),
        files::trials(),
        filters::trials(),
        formats::trials(),
        layout::trials(),
        live::trials(),
        long_running::trials(),
        man::trials(),
        nothing_lost::trials(),
        package::trials(),
        presets::trials(),
        prompts::trials(),
        received::trials(),
        recording::trials(),
        replay::trials(),
        rotation::trials(),
        sealing::trials(),
        sealing::off_host::trials(),
        sealing::refusals::trials(),
        sealing::shared::trials(),
        sealing::verdicts::trials(),
        secrets::trials(),
        shipped::trials(),
        shipping::trials(),
        shipping_tls::trials(),
        signals::trials(),
        splice::trials(),
        sudo_iolog::trials(),
        tcp_syslog::trials(),
        tools::trials(),
        volume::trials(),
    ];
    harness::main(tests.into_iter().flatten().collect())
}
