//! The single-component harness: build or load a component, instantiate it with
//! a config, and call it element by element.
//!
//! ```no_run
//! use torvyn_testkit::{Component, TestElement};
//!
//! # fn main() -> Result<(), torvyn_testkit::Error> {
//! // Builds this crate to wasm32-wasip2 (once per test binary) and compiles it.
//! let filter = Component::build(env!("CARGO_MANIFEST_DIR"))?;
//! let mut instance = filter.instantiate(r#"{"min_len": 3}"#)?;
//! assert!(instance.evaluate(TestElement::text("hello"))?);
//! assert!(!instance.evaluate(TestElement::text("hi"))?);
//! assert_eq!(instance.stats().payload_bytes_read, 0);
//! # Ok(())
//! # }
//! ```

mod exports;
mod inspect;
mod instance;
mod load;
mod options;
mod transfer;
mod trap;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::diagnose;
use crate::error::{Error, ErrorKind};
use crate::host;
use crate::role::Role;

pub use inspect::{Inspection, LIFECYCLE_INTERFACE, inspect};
pub use instance::Instance;
pub use options::InstanceOptions;
pub use trap::LogLine;

pub(crate) use load::with_quick_traps;
pub(crate) use options::{Faults, OutputTap};

use load::{
    LoadFailure, Loaded, cache, compile, compile_bytes, contract_error, load, load_error,
    node_name, not_readable, quick_traps,
};

/// A compiled component, ready to instantiate any number of times.
///
/// Cheap to clone. Loading the same unchanged file twice in one process reuses
/// the compiled code, and compiled code is also cached on disk next to the
/// built components.
///
/// ```no_run
/// use torvyn_testkit::{Component, Role};
///
/// // Builds the crate for wasm32-wasip2 (needs the target), or loads a file.
/// let component = Component::build(env!("CARGO_MANIFEST_DIR"))?;
/// let same = Component::from_file("target/wasm32-wasip2/release/my_filter.wasm")?;
/// assert_eq!(component.role(), Role::Filter);
/// println!("{} exports {:?}", component.name(), component.inspection().exports);
/// let mut first = component.instantiate("")?; // any number of instances
/// let mut second = same.instantiate(r#"{"min_len": 3}"#)?;
/// # let _ = (&mut first, &mut second);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Component {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    name: String,
    inspection: Inspection,
    plain: Loaded,
    fueled: OnceLock<Result<Loaded, String>>,
    /// The shadow-stack layout, read when a trap needs it.
    stack_map: OnceLock<diagnose::StackMap>,
    quick: OnceLock<Result<Loaded, String>>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("name", &self.inner.name)
            .field("role", &self.inner.inspection.role)
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Component {
    /// Build the component crate at `crate_dir` to `wasm32-wasip2` (debug profile, in
    /// the shared target directory; see [`build_component`](crate::build_component)) and load it.
    ///
    /// Usually `Component::build(env!("CARGO_MANIFEST_DIR"))` in a crate's own
    /// tests. Builds and compilations are done once per test binary.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// #
    /// let component = Component::build(env!("CARGO_MANIFEST_DIR"))?;
    /// println!("{} is a {}", component.name(), component.role());
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn build(crate_dir: impl AsRef<Path>) -> Result<Component, Error> {
        let crate_dir = crate_dir.as_ref();
        let wasm = crate::build::build_component(crate_dir).map_err(|err| {
            let name = crate_dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            Error::new(name, ErrorKind::Build(err))
        })?;
        Component::from_file(wasm)
    }

    /// Load a component from a `.wasm` file.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// #
    /// let component = Component::from_file("target/wasm32-wasip2/release/my_filter.wasm")?;
    /// assert_eq!(component.role(), torvyn_testkit::Role::Filter);
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Component, Error> {
        let path = path.as_ref();
        let name = node_name(path);
        let load_error = |message: String| load_error(&name, path, message);
        let metadata = std::fs::metadata(path).map_err(|err| load_error(not_readable(&err)))?;
        let key = (path.to_path_buf(), metadata.modified().ok(), metadata.len());
        let mut cache = cache()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(component) = cache.get(&key) {
            return Ok(component.clone());
        }
        let (_, bytes, compiled) = compile(path)?;
        let runtime = host::runtime(false).map_err(&load_error)?;
        let inspection = inspect::analyse(path, &name, &bytes, &compiled, &runtime.engine)?;
        let plain = match load(runtime, &compiled) {
            Ok(plain) if inspection.mismatches.is_empty() => plain,
            Ok(_) => return Err(contract_error(&name, path, inspection.mismatches, None)),
            Err(LoadFailure::Link(err)) => {
                let mut mismatches = inspection.mismatches;
                if !mismatches
                    .iter()
                    .any(|mismatch| mismatch.direction == crate::contract::Direction::Import)
                {
                    mismatches.push(inspect::link_mismatch(&err));
                }
                return Err(contract_error(&name, path, mismatches, Some(err)));
            }
            Err(LoadFailure::Other(message)) => return Err(load_error(message)),
        };
        let component = Component {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                name,
                inspection,
                plain,
                fueled: OnceLock::new(),
                stack_map: OnceLock::new(),
                quick: OnceLock::new(),
            }),
        };
        cache.insert(key, component.clone());
        Ok(component)
    }

    /// The component's role.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let component = Component::build("my-filter")?;
    /// assert_eq!(component.role(), torvyn_testkit::Role::Filter);
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn role(&self) -> Role {
        self.inner.inspection.role
    }

    /// The component's name (the `.wasm` file's stem, `_` written as `-`),
    /// used in error messages.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The `.wasm` file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Its role, lifecycle, imports and exports.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let component = Component::build("my-filter")?;
    /// let inspection = component.inspection();
    /// assert!(inspection.lifecycle && inspection.is_valid());
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn inspection(&self) -> &Inspection {
        &self.inner.inspection
    }

    /// Instantiate with `config` (the string given to `init`; `""` for none)
    /// and default [`Limits`](crate::Limits), and call `init`.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let component = Component::build("my-filter")?;
    /// let mut filter = component.instantiate(r#"{"min_len": 3}"#)?;
    /// assert!(!filter.evaluate(TestElement::text("hi"))?);
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn instantiate(&self, config: &str) -> Result<Instance, Error> {
        self.options().config(config).instantiate()
    }

    /// Instantiate with `config` serialized to JSON, and call `init`.
    ///
    /// ```no_run
    /// # use torvyn_testkit::Component;
    /// # let component: Component = todo!();
    /// let instance = component.instantiate_with(&serde_json::json!({"max_per_second": 2}))?;
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn instantiate_with<C: Serialize + ?Sized>(&self, config: &C) -> Result<Instance, Error> {
        self.options().config_json(config)?.instantiate()
    }

    /// Options for an instance: config, limits, capability grants, name.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let component = Component::build("my-filter")?;
    /// let mut filter = component
    ///     .options()
    ///     .config(r#"{"min_len": 3}"#)
    ///     .limits(torvyn_testkit::Limits::default().memory(4 << 20))
    ///     .name("gate")
    ///     .instantiate()?;
    /// assert_eq!(filter.name(), "gate");
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn options(&self) -> InstanceOptions {
        InstanceOptions::new(self.clone())
    }

    /// The component's shadow-stack layout (read from the file on first use).
    fn stack_map(&self) -> Option<&diagnose::StackMap> {
        if let Some(map) = self.inner.stack_map.get() {
            return Some(map);
        }
        let bytes = std::fs::read(&self.inner.path).ok()?;
        Some(
            self.inner
                .stack_map
                .get_or_init(|| diagnose::StackMap::parse(&bytes)),
        )
    }

    fn loaded(&self, fuel: bool) -> Result<&Loaded, String> {
        if !fuel && quick_traps() {
            return self
                .inner
                .quick
                .get_or_init(|| self.load_on(host::quick_runtime()?))
                .as_ref()
                .map_err(Clone::clone);
        }
        if !fuel {
            return Ok(&self.inner.plain);
        }
        self.inner
            .fueled
            .get_or_init(|| self.load_on(host::runtime(true)?))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Compile and link the component again on another runtime (fuel
    /// metering, or no backtrace details); it loaded on the plain one.
    fn load_on(&self, runtime: &'static host::LinkedEngine) -> Result<Loaded, String> {
        let bytes = std::fs::read(&self.inner.path).map_err(|err| err.to_string())?;
        let compiled =
            compile_bytes(runtime, &bytes).map_err(|err| err.root_cause().to_string())?;
        load(runtime, &compiled).map_err(String::from)
    }
}
