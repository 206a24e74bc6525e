//! The raw structs serde reads a manifest into, and memory sizes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Unexpected, Visitor};

use super::CapabilityPolicy;
use super::error::Problem;
use crate::settings::BackpressurePolicy;

// The raw structs: what serde reads once `schema::check` found no
// problem (so `deny_unknown_fields` is a second line of defence). A key the
// reference host does not use is read as `IgnoredAny`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManifest {
    #[serde(default)]
    pub(super) torvyn: Option<RawProject>,
    #[serde(default)]
    pub(super) component: Vec<RawComponent>,
    #[serde(default, rename = "build")]
    pub(super) _build: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) test: RawTest,
    #[serde(default)]
    pub(super) runtime: RawRuntime,
    #[serde(default, rename = "observability")]
    pub(super) _observability: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) security: RawSecurity,
    #[serde(default, rename = "registry")]
    pub(super) _registry: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) flow: BTreeMap<String, RawFlow>,
    #[serde(default)]
    pub(super) testkit: RawTestkit,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTestkit {
    #[serde(default)]
    pub(super) clock: Option<crate::settings::ClockMode>,
    #[serde(default)]
    pub(super) random_seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProject {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) version: Option<String>,
    #[serde(default)]
    pub(super) contract_version: Option<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) authors: Vec<String>,
    #[serde(default)]
    pub(super) license: Option<String>,
    #[serde(default)]
    pub(super) repository: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) path: Option<PathBuf>,
    #[serde(default)]
    pub(super) language: Option<String>,
    #[serde(default)]
    pub(super) build_command: Option<String>,
    #[serde(default)]
    pub(super) config: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTest {
    #[serde(default)]
    pub(super) timeout_seconds: Option<u64>,
    #[serde(default, rename = "fixtures_dir")]
    pub(super) _fixtures_dir: Option<IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRuntime {
    #[serde(default, rename = "worker_threads")]
    pub(super) _worker_threads: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) max_memory_per_component: Option<Size>,
    #[serde(default)]
    pub(super) default_fuel_per_invocation: Option<u64>,
    #[serde(default, rename = "compilation_cache_dir")]
    pub(super) _compilation_cache_dir: Option<IgnoredAny>,
    #[serde(default, rename = "scheduling")]
    pub(super) _scheduling: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) backpressure: RawBackpressure,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackpressure {
    #[serde(default)]
    pub(super) default_queue_depth: Option<usize>,
    #[serde(default)]
    pub(super) backpressure_policy: Option<BackpressurePolicy>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecurity {
    #[serde(default)]
    pub(super) default_capability_policy: CapabilityPolicy,
    #[serde(default)]
    pub(super) grants: BTreeMap<String, RawGrant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrant {
    #[serde(default)]
    pub(super) capabilities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlow {
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) default_queue_depth: Option<usize>,
    #[serde(default)]
    pub(super) on_error: Option<toml::Value>,
    #[serde(default)]
    pub(super) backpressure: RawBackpressure,
    #[serde(default, rename = "scheduling_policy")]
    pub(super) _scheduling_policy: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) nodes: BTreeMap<String, RawNode>,
    #[serde(default)]
    pub(super) edges: Vec<RawEdge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    #[serde(default)]
    pub(super) component: Option<String>,
    #[serde(default)]
    pub(super) interface: Option<String>,
    #[serde(default)]
    pub(super) config: Option<String>,
    #[serde(default)]
    pub(super) fuel_budget: Option<u64>,
    #[serde(default)]
    pub(super) max_memory: Option<Size>,
    #[serde(default)]
    pub(super) on_error: Option<toml::Value>,
    #[serde(default, rename = "priority")]
    pub(super) _priority: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEdge {
    #[serde(default)]
    pub(super) from: Option<RawEndpoint>,
    #[serde(default)]
    pub(super) to: Option<RawEndpoint>,
    #[serde(default)]
    pub(super) queue_depth: Option<usize>,
    #[serde(default)]
    pub(super) backpressure: RawBackpressure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEndpoint {
    #[serde(default)]
    pub(super) node: Option<String>,
    #[serde(default)]
    pub(super) port: Option<String>,
}

/// A memory size as written: a number of bytes, or a string like `"16MiB"`.
pub(crate) enum Size {
    Bytes(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = Size;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: a number of bytes, or a string such as \"16MiB\"")
            }

            fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<Size, E> {
                Ok(Size::Bytes(bytes))
            }

            fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<Size, E> {
                u64::try_from(bytes)
                    .map(Size::Bytes)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(bytes), &self))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Size, E> {
                Ok(Size::Text(text.to_string()))
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}

const SIZE_FORMS: &str = "write a number of bytes (1000) or a string with a unit: B, KiB, MiB, \
                          GiB (also K, M, G), KB, MB or GB (\"512KiB\", \"16MiB\", \"1GiB\", \
                          \"64MB\")";

impl Size {
    pub(super) fn bytes(&self, key: &str) -> Result<u64, Problem> {
        let bytes = match self {
            Size::Bytes(bytes) => *bytes,
            Size::Text(text) => parse_size(text).ok_or_else(|| {
                Problem::invalid(key, format!("{text:?} is not a size; {SIZE_FORMS}"))
            })?,
        };
        if bytes == 0 {
            return Err(Problem::invalid(
                key,
                format!("a memory limit of 0 bytes leaves no room for a component; {SIZE_FORMS}"),
            ));
        }
        Ok(bytes)
    }
}

/// Parse a memory size: a number of bytes (`"1000"`), or a number followed,
/// optionally after spaces, by `B`, `KiB`, `MiB`, `GiB` (powers of 1024; in
/// any case, or as `K`, `M`, `G`, as upstream Torvyn reads them) or `KB`,
/// `MB`, `GB` (powers of 1000). `None` if it is not one, or overflows.
///
/// ```
/// use torvyn_testkit::manifest::parse_size;
///
/// assert_eq!(parse_size("16MiB"), Some(16 * 1024 * 1024));
/// assert_eq!(parse_size("512 KiB"), Some(512 * 1024));
/// assert_eq!(parse_size("1GiB"), Some(1 << 30));
/// assert_eq!(parse_size("64MB"), Some(64_000_000));
/// assert_eq!(parse_size("16mib"), Some(16 * 1024 * 1024));
/// assert_eq!(parse_size("1M"), Some(1024 * 1024));
/// assert_eq!(parse_size("1000"), Some(1000));
/// assert_eq!(parse_size("16 megs"), None);
/// assert_eq!(parse_size("1.5GiB"), None);
/// ```
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return None;
    }
    let number: u64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim_start() {
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        // Upstream's forms: binary units in any case, and their initials.
        unit => match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" | "k" => 1 << 10,
            "mib" | "m" => 1 << 20,
            "gib" | "g" => 1 << 30,
            _ => return None,
        },
    };
    number.checked_mul(multiplier)
}
