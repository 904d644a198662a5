// The typed `/ws` app protocol. The wire types are generated from the Rust definitions in
// host/protocol (`cargo run -p ovhost-protocol --bin gen-protocol` writes messages.gen.ts; CI
// fails when it is stale). Import protocol types from `../protocol`, never from the .gen file.
export * from './messages.gen';
