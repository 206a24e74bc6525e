//! The generated Rust source: the runtime the crate depends on, the shim module
//! appended to the bindings, and `wit-bindgen-rust` with cargo-component's
//! options.

use wit_bindgen_core::WorldGenerator;
use wit_bindgen_core::wit_parser::Resolve;

/// The runtime path for the generated code: the crate's `wit-bindgen-rt`
/// dependency (`wit_bindgen_rt`, as cargo-component sets it), else the `rt`
/// module of its `wit-bindgen` dependency (`wit_bindgen::rt`, the macro's).
/// Renamed dependencies (`package = "..."`) are followed.
pub(super) fn runtime_path(table: &toml::Table) -> Option<String> {
    let dependencies = table.get("dependencies")?.as_table()?;
    let find = |wanted: &str| {
        dependencies.iter().find_map(|(key, value)| {
            let package = value.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            (package == wanted).then(|| key.replace('-', "_"))
        })
    };
    find("wit-bindgen-rt").or_else(|| find("wit-bindgen").map(|name| format!("{name}::rt")))
}

/// The path the generated code calls its runtime by: the module [`shim`]
/// appends to the bindings.
pub(super) const SHIM_PATH: &str = "crate::bindings::__torvyn_rt";

/// The runtime module of the generated bindings: everything of the crate's
/// runtime (`wit_bindgen_rt`), and a `Cleanup` of its own, which the code of
/// this generator calls and wit-bindgen-rt releases before 0.44 lack (a local
/// item shadows the glob import, so newer releases work too).
pub(super) fn shim(runtime: &str) -> String {
    format!(
        "/// The runtime the bindings above call: `{runtime}`, and a `Cleanup` of their own
/// (wit-bindgen-rt releases before 0.44 have none). Written by torvyn-testkit.
#[doc(hidden)]
#[allow(dead_code, unused_imports, unused_unsafe, clippy::all)]
pub(crate) mod __torvyn_rt {{
    extern crate alloc as torvyn_alloc;

    pub use {runtime}::*;

    use torvyn_alloc::alloc::Layout;

    /// An allocation for lowered list elements, freed on drop unless forgotten.
    pub struct Cleanup {{
        ptr: *mut u8,
        layout: Layout,
    }}

    impl Cleanup {{
        /// Allocate `layout` (nothing for a zero size).
        pub fn new(layout: Layout) -> (*mut u8, Option<Cleanup>) {{
            if layout.size() == 0 {{
                return (::core::ptr::null_mut(), None);
            }}
            // SAFETY: the layout's size is not zero.
            let ptr = unsafe {{ torvyn_alloc::alloc::alloc(layout) }};
            if ptr.is_null() {{
                torvyn_alloc::alloc::handle_alloc_error(layout);
            }}
            (ptr, Some(Cleanup {{ ptr, layout }}))
        }}

        /// Keep the allocation: its new owner frees it.
        pub fn forget(self) {{
            ::core::mem::forget(self);
        }}
    }}

    impl Drop for Cleanup {{
        fn drop(&mut self) {{
            // SAFETY: allocated in `new` with this layout, and freed only here.
            unsafe {{ torvyn_alloc::alloc::dealloc(self.ptr, self.layout) }}
        }}
    }}
}}
"
    )
}

/// The generated Rust source, with cargo-component's options: formatted,
/// owning types, the crate's runtime path, every import generated, and its
/// `[package.metadata.component.bindings]` settings (`ownership`, `derives`,
/// `with`, `format`).
pub(super) fn generate(
    resolve: &mut Resolve,
    world: wit_bindgen_core::wit_parser::WorldId,
    runtime: &str,
    component: &toml::Value,
) -> Result<String, String> {
    let settings = component.get("bindings");
    let flag = |key: &str, default: bool| {
        settings
            .and_then(|s| s.get(key))
            .and_then(|v| v.as_bool())
            .unwrap_or(default)
    };
    let ownership = match settings
        .and_then(|s| s.get("ownership"))
        .and_then(|o| o.as_str())
    {
        None | Some("owning") => wit_bindgen_rust::Ownership::Owning,
        Some("borrowing") => wit_bindgen_rust::Ownership::Borrowing {
            duplicate_if_necessary: false,
        },
        Some("borrowing-duplicate-if-necessary") => wit_bindgen_rust::Ownership::Borrowing {
            duplicate_if_necessary: true,
        },
        Some(other) => {
            return Err(format!(
                "unknown `ownership = \"{other}\"`; expected `owning`, `borrowing` or \
                 `borrowing-duplicate-if-necessary`"
            ));
        }
    };
    let derives = settings
        .and_then(|s| s.get("derives"))
        .and_then(|d| d.as_array())
        .map(|derives| {
            derives
                .iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let with = settings
        .and_then(|s| s.get("with"))
        .and_then(|w| w.as_table())
        .map(|with| {
            with.iter()
                .filter_map(|(key, path)| {
                    let path = path.as_str()?.to_string();
                    Some((key.clone(), wit_bindgen_rust::WithOption::Path(path)))
                })
                .collect()
        })
        .unwrap_or_default();
    let opts = wit_bindgen_rust::Opts {
        format: flag("format", true),
        ownership,
        additional_derive_attributes: derives,
        with,
        // Every imported interface not mapped by `with` is generated: the
        // crate has no other source for them.
        generate_all: true,
        runtime_path: Some(runtime.to_string()),
        ..Default::default()
    };
    let mut files = wit_bindgen_core::Files::default();
    opts.build()
        .generate(resolve, world, &mut files)
        .map_err(|err| format!("wit-bindgen-rust failed: {err:#}"))?;
    let (_, bytes) = files
        .iter()
        .next()
        .ok_or("wit-bindgen-rust produced no source")?;
    String::from_utf8(bytes.to_vec()).map_err(|err| format!("the generated source: {err}"))
}
