//! Benchmark: compiling the embedded default blueprint to rendered templates (no disk writes).

use criterion::{criterion_group, criterion_main, Criterion};
use sandboxc::blueprint::Source;
use sandboxc::cfn::render::Format;

fn synth_default(c: &mut Criterion) {
    let source = Source::embedded();
    c.bench_function("synth default blueprint (load, validate, compile, render)", |b| {
        b.iter(|| {
            let compiled = sandboxc::cli::build::build(&source, Format::Json).map_err(|e| e.to_string());
            let files = compiled.and_then(|c| sandboxc::output::files(&c).map_err(|e| e.to_string()));
            std::hint::black_box(files)
        });
    });
}

criterion_group!(benches, synth_default);
criterion_main!(benches);
