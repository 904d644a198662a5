//! Raw binding to the ovstream 0.5.7 C ABI: struct mirrors ([`types`]), the loader that opens a
//! library by absolute path and leaks it ([`load`]), and the resolved function tables
//! ([`server::ServerApi`], [`client::ClientApi`], [`cudart::CudaRt`]).

pub mod client;
pub mod cudart;
pub mod load;
pub mod server;
pub mod types;

/// Declares a table of C function pointers resolved once from a leaked library.
/// Field names are the exported symbol names.
macro_rules! fn_table {
    ($(#[$meta:meta])* pub struct $name:ident { $( $sym:ident : fn($($arg:ty),*) $(-> $ret:ty)? ; )* }) => {
        $(#[$meta])*
        pub struct $name {
            /// Absolute path the library was loaded from.
            pub path: std::path::PathBuf,
            $( pub $sym: unsafe extern "C" fn($($arg),*) $(-> $ret)?, )*
        }

        impl $name {
            /// Resolves every symbol; a missing one means the library is older than the bindings.
            pub(crate) fn resolve(
                lib: &'static libloading::Library,
                path: &std::path::Path,
            ) -> Result<Self, crate::OvstreamError> {
                Ok(Self {
                    path: path.to_path_buf(),
                    $( $sym: {
                        // SAFETY: the declared signature is the C signature documented in
                        // reference/ovstream.md for this symbol; the library is leaked, so the
                        // pointer stays valid for the life of the process.
                        let symbol = unsafe {
                            lib.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                                concat!(stringify!($sym), "\0").as_bytes(),
                            )
                        }
                        .map_err(|_| crate::OvstreamError::MissingSymbol {
                            path: path.to_path_buf(),
                            symbol: stringify!($sym),
                        })?;
                        *symbol
                    }, )*
                })
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("path", &self.path).finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use fn_table;
