//! `init`: a new project from this toolkit's templates, which are embedded
//! in the binary (no cargo-generate needed).
//!
//! The templates are the cargo-generate templates of the repository's
//! `templates/`, copied into this crate by `cargo xtask sync-templates` (a
//! `Cargo.toml` is stored as `Cargo.toml.liquid`, which cargo-generate also
//! renders as `Cargo.toml`). They are rendered with `liquid`, the engine
//! cargo-generate uses, with the values `cargo generate --name <name>
//! --define torvyn_path=<path>` gives, so a project is byte-for-byte the one
//! cargo-generate makes (template-tests checks it).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use include_dir::{Dir, DirEntry, include_dir};

use crate::cli::GlobalOpts;
use crate::command_prelude::Format;

/// The templates (`cargo xtask sync-templates` keeps this copy).
static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The contract version the templates target.
const CONTRACT_VERSION: &str = "0.1.0";

#[derive(Args)]
pub(crate) struct InitArgs {
    /// The project's name and directory (default: the current directory's
    /// name, and the project is created in it). ASCII letters, digits, `-`
    /// and `_`, 1 to 64 of them, starting with a letter or `_`.
    #[arg(value_name = "PROJECT_NAME")]
    project_name: Option<String>,
    /// The template, by upstream torvyn's names: `transform` is this
    /// toolkit's `processor` template, `full-pipeline` its `pipeline`.
    #[arg(long, short = 't', value_enum, default_value_t = Template::Transform)]
    template: Template,
    /// The implementation language; the templates are Rust, and any other
    /// language is an error.
    #[arg(long, short = 'l', value_enum, default_value_t = Language::Rust)]
    language: Language,
    /// Do not make the project a git repository (by default `git init` runs
    /// in it; without git installed, a warning says it did not).
    #[arg(long)]
    no_git: bool,
    /// Accepted for upstream's command lines, and has no effect: upstream
    /// torvyn 0.1.1 ignores it too (its templates always hold their example),
    /// and here the example is the template (its code and its tests are
    /// what `cargo test` runs).
    #[arg(long)]
    no_example: bool,
    /// The Torvyn contract version the project targets; only `0.1.0` exists.
    #[arg(long, value_name = "VERSION", default_value = CONTRACT_VERSION)]
    contract_version: String,
    /// Write into an existing, non-empty directory, overwriting the files
    /// the template has (others are left as they are).
    #[arg(long)]
    force: bool,
    /// Depend on `torvyn-guest` and `torvyn-testkit` of this local checkout
    /// of the toolkit instead of crates.io's `0.1` (the templates'
    /// `torvyn_path`).
    #[arg(long, value_name = "DIR")]
    torvyn_path: Option<PathBuf>,
}

/// `--template`, by upstream's names.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Template {
    /// A source component (this toolkit's `source` template).
    Source,
    /// A sink component (`sink`).
    Sink,
    /// A processor component (`processor`; upstream's default).
    Transform,
    /// A filter component (`filter`).
    Filter,
    /// A router component (`router`).
    Router,
    /// An aggregator component (`aggregator`).
    Aggregator,
    /// A pipeline project: three components and a `Torvyn.toml` flow
    /// (`pipeline`).
    FullPipeline,
    /// Upstream's minimal skeleton: a `Torvyn.toml` with only its
    /// `[torvyn]` table, and a `.gitignore`; add components with
    /// `init -t <role> components/<name>`.
    Empty,
}

impl Template {
    /// The name of this toolkit's template (a directory of `templates/`).
    fn toolkit_name(self) -> &'static str {
        match self {
            Template::Source => "source",
            Template::Sink => "sink",
            Template::Transform => "processor",
            Template::Filter => "filter",
            Template::Router => "router",
            Template::Aggregator => "aggregator",
            Template::FullPipeline => "pipeline",
            Template::Empty => "empty",
        }
    }

    /// Upstream's name, as `--template` writes it.
    fn upstream_name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_string())
    }
}

/// `--language`, upstream's values.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Language {
    /// Rust: every template.
    Rust,
    /// Not available here.
    Go,
    /// Not available here.
    Python,
    /// Not available here.
    Zig,
}

/// What `init` made.
struct Created {
    name: String,
    template: Template,
    directory: PathBuf,
    files: Vec<PathBuf>,
    git: Git,
}

/// Whether `git init` ran.
enum Git {
    Initialized,
    Skipped,
    Failed(String),
}

pub(crate) fn exec(args: InitArgs, global: &GlobalOpts) -> Result<(), String> {
    // `--no-example` has no effect (see its help).
    let _ = args.no_example;
    if args.language != Language::Rust {
        let language = args
            .language
            .to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_string());
        return Err(format!(
            "--language {language}: this toolkit's templates are Rust only (its SDK, \
             torvyn-guest, is a Rust crate); use `--language rust`, or upstream's `torvyn init` \
             for other languages"
        ));
    }
    if args.contract_version != CONTRACT_VERSION {
        return Err(format!(
            "--contract-version {}: the templates target the Torvyn {CONTRACT_VERSION} contract \
             (torvyn:streaming@{CONTRACT_VERSION}), the only version there is; leave the option \
             out or give `{CONTRACT_VERSION}`",
            args.contract_version
        ));
    }
    let (name, directory) = match &args.project_name {
        Some(name) => (name.clone(), PathBuf::from(name)),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|err| format!("cannot read the current directory: {err}"))?;
            let name = cwd
                .file_name()
                .and_then(|name| name.to_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    "the current directory has no usable name; give one: \
                     `torvyn-testkit init my-project`"
                        .to_string()
                })?;
            (name, PathBuf::from("."))
        }
    };
    validate_name(&name)?;
    if directory.exists() {
        if !directory.is_dir() {
            return Err(format!(
                "{} exists and is not a directory",
                directory.display()
            ));
        }
        let mut entries = std::fs::read_dir(&directory)
            .map_err(|err| format!("cannot read {}: {err}", directory.display()))?;
        if entries.next().is_some() && !args.force {
            return Err(format!(
                "directory `{}` already exists and is not empty; use --force to write the \
                 project into it (files the template has are overwritten), or choose another name",
                directory.display()
            ));
        }
    }
    let torvyn_path = match &args.torvyn_path {
        Some(path) => std::path::absolute(path)
            .map_err(|err| format!("--torvyn-path {}: {err}", path.display()))?
            .display()
            .to_string(),
        None => String::new(),
    };
    let files = if args.template == Template::Empty {
        write_empty(&name, &directory)?
    } else {
        render(
            args.template.toolkit_name(),
            &name,
            &torvyn_path,
            &directory,
        )?
    };
    let git = if args.no_git {
        Git::Skipped
    } else {
        git_init(&directory)
    };
    let created = Created {
        name,
        template: args.template,
        directory,
        files,
        git,
    };
    print(&created, global);
    Ok(())
}

/// Upstream's rules for a project name.
fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "the project name must be 1 to 64 characters, `{name}` has {}",
            name.len()
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "the project name `{name}` has characters other than ASCII letters, digits, `-` and `_`"
        ));
    }
    if name.starts_with('-') || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "the project name `{name}` starts with a hyphen or a digit; start it with a letter or `_`"
        ));
    }
    Ok(())
}

/// Render the embedded template `template` into `directory` with the values
/// cargo-generate gives; the files written, relative to `directory`, sorted.
fn render(
    template: &str,
    name: &str,
    torvyn_path: &str,
    directory: &Path,
) -> Result<Vec<PathBuf>, String> {
    let root = TEMPLATES
        .get_dir(template)
        .ok_or_else(|| format!("the template `{template}` is not in this binary"))?;
    let parser = liquid::ParserBuilder::with_stdlib()
        .build()
        .map_err(|err| format!("cannot build the template engine: {err}"))?;
    let globals = liquid::object!({
        "project-name": name,
        "crate_name": name.replace('-', "_"),
        "torvyn_path": torvyn_path,
        "in_workspace": false,
    });
    let mut files = Vec::new();
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        for entry in dir.entries() {
            let file = match entry {
                DirEntry::Dir(sub) => {
                    pending.push(sub);
                    continue;
                }
                DirEntry::File(file) => file,
            };
            let relative = file.path().strip_prefix(template).unwrap_or(file.path());
            if relative == Path::new("cargo-generate.toml") {
                continue;
            }
            let relative = match relative.file_name().and_then(|name| name.to_str()) {
                Some(stored) if stored.ends_with(".liquid") => {
                    relative.with_file_name(stored.trim_end_matches(".liquid"))
                }
                _ => relative.to_path_buf(),
            };
            let text = file.contents_utf8().ok_or_else(|| {
                format!("template `{template}`: {} is not UTF-8", relative.display())
            })?;
            let rendered = parser
                .parse(text)
                .and_then(|parsed| parsed.render(&globals))
                .map_err(|err| format!("template `{template}`: {}: {err}", relative.display()))?;
            let target = directory.join(&relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
            }
            std::fs::write(&target, rendered)
                .map_err(|err| format!("cannot write {}: {err}", target.display()))?;
            files.push(relative);
        }
    }
    files.sort();
    Ok(files)
}

/// Upstream's `empty` template, as its `torvyn init` writes it: the
/// manifest's `[torvyn]` table and a `.gitignore`.
fn write_empty(name: &str, directory: &Path) -> Result<Vec<PathBuf>, String> {
    let files = [
        (
            "Torvyn.toml",
            format!(
                "[torvyn]\nname = \"{name}\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n"
            ),
        ),
        (".gitignore", "target/\n.torvyn/\n*.wasm\n".to_string()),
    ];
    std::fs::create_dir_all(directory)
        .map_err(|err| format!("cannot create {}: {err}", directory.display()))?;
    for (file, text) in &files {
        let target = directory.join(file);
        std::fs::write(&target, text)
            .map_err(|err| format!("cannot write {}: {err}", target.display()))?;
    }
    Ok(files.iter().map(|(file, _)| PathBuf::from(file)).collect())
}

/// `git init` in `directory`, as upstream does.
fn git_init(directory: &Path) -> Git {
    let out = std::process::Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(directory)
        .output();
    match out {
        Ok(out) if out.status.success() => Git::Initialized,
        Ok(out) => Git::Failed(format!(
            "`git init` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Git::Failed(format!("cannot run git ({err})")),
    }
}

/// The report: what was made, then (for people) the next steps.
fn print(created: &Created, global: &GlobalOpts) {
    if let Git::Failed(why) = &created.git {
        eprintln!(
            "torvyn-testkit: warning: the project is not a git repository: {why} (--no-git skips this)"
        );
    }
    let toolkit = created.template.toolkit_name();
    if global.format == Format::Json {
        let summary = serde_json::json!({
            "project_name": created.name,
            "template": created.template.upstream_name(),
            "toolkit_template": toolkit,
            "directory": created.directory.display().to_string(),
            "files_created": created.files.iter().map(|file| file.display().to_string()).collect::<Vec<_>>(),
            "git_initialized": matches!(created.git, Git::Initialized),
        });
        println!("{summary}");
        return;
    }
    let origin = if created.template == Template::Empty {
        "upstream's skeleton".to_string()
    } else {
        format!("this toolkit's `{toolkit}`")
    };
    println!(
        "created project `{}` from template `{}` ({origin}) in {}",
        created.name,
        created.template.upstream_name(),
        created.directory.display()
    );
    for file in &created.files {
        println!("  {}", file.display());
    }
    if global.quiet {
        return;
    }
    if created.template == Template::Empty {
        println!("\nnext steps:");
        if created.directory != Path::new(".") {
            println!("  cd {}", created.directory.display());
        }
        println!(
            "  torvyn-testkit init -t filter --no-git my-filter   # a component (any role); then \
             name it in a [[component]] and a [flow.main] of Torvyn.toml"
        );
        return;
    }
    let try_it = if created.template == Template::FullPipeline {
        "torvyn-testkit run                 # run the flow in Torvyn.toml"
    } else {
        "torvyn-testkit inspect .           # build the component, check it against the contract"
    };
    println!("\nnext steps:");
    if created.directory != Path::new(".") {
        println!("  cd {}", created.directory.display());
    }
    println!(
        "  cargo test                         # unit tests, and the component on the reference host"
    );
    println!("  {try_it}");
}
