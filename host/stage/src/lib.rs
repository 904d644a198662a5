//! # ovhost-stage: the crash-isolated USD stage service
//!
//! **The one rule:** all USD parsing happens in a child process. The host's stage thread owns a
//! [`StageService`] (blocking, `Send`), which spawns the worker command it is given (the host
//! runs `ovhost __stage-worker`, whose `main` calls [`worker_main`]) and talks to it over pipes:
//! JSON lines for queries, a compact binary frame for geometry ([`scene_codec`]).
//!
//! `openusd`'s `Stage` is `!Send` and some malicious stages overflow its stack, which cannot be
//! caught in-process. When the worker dies, the call in flight fails with
//! [`StageError::WorkerCrashed`] ("the USD parser crashed while opening X: …") and the next call
//! starts a new worker, re-opening the last good stage.
//!
//! | module | owns |
//! |---|---|
//! | [`service`] | the client: spawning, timeouts, restarts, generations |
//! | [`resolve`] | URL → file inside the asset root; scene listing |
//! | [`protocol`] | request/reply framing on the pipes |
//! | [`scene_codec`] | binary encoding of [`ovhost_plugin_api::StageScene`] |
//! | [`types`] | returned values (rows, properties, variants, stage facts) |
//! | `worker` | the worker process: open, index, extract, answer |

pub mod error;
pub mod protocol;
pub mod resolve;
pub mod scene_codec;
pub mod service;
pub mod types;
mod worker;

pub use error::StageError;
pub use service::{Canceller, DEFAULT_PROPERTIES_MAX_BYTES, StageService, StageTarget, TextureBatch};
pub use types::{ChildRow, OpenedStage, Properties, StageInfo, TypeClass, VariantSet};
pub use worker::{ASSET_ROOT_ENV, WORKER_STACK_BYTES, worker_main};

/// The service must be movable to the host's stage thread.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<StageService>();
};
