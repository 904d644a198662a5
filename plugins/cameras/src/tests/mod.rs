//! Unit tests: the shared math (`rig`), each scheme driven by scripted input (`schemes`), and the
//! controller contract (`contract`: NaN safety, scheme switches, state JSON, config, registration).

mod contract;
mod rig;
mod schemes;
mod support;
