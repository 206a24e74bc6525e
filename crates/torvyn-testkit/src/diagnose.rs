//! Naming what a trap means: `exit(n)`, a call stack that ran out, a Rust
//! shadow stack that ran off the start of linear memory.
//!
//! Rust on wasm keeps large locals on a shadow stack in linear memory: the
//! `__stack_pointer` global starts at the stack size (`-z stack-size`, 1 MiB by
//! default; the stack comes first in memory) and every function that needs a
//! frame subtracts its size in its prologue. A frame that does not fit wraps
//! the pointer below zero, and the next store traps as an out-of-bounds memory
//! access. So an out-of-bounds trap is a stack overflow when the frames on the
//! wasm backtrace, read from their prologues, need more than the stack size.

use std::collections::HashMap;

use wasmparser::{KnownCustom, Name, Operator, Parser, Payload};

use crate::error::ErrorKind;

/// wasmtime's default cap on the frames of a wasm backtrace.
const BACKTRACE_CAP: usize = 20;

/// The shadow-stack layout of every core module of a component.
#[derive(Debug, Default)]
pub(crate) struct StackMap {
    modules: Vec<CoreModule>,
}

#[derive(Debug, Default)]
struct CoreModule {
    /// Imported functions come first in the function index space.
    imported_functions: u32,
    /// Defined globals come after imported ones.
    imported_globals: u32,
    /// The global named `__stack_pointer`, else the first mutable `i32` one.
    stack_pointer: Option<u32>,
    /// Initial values of the defined `i32` globals, by global index.
    initial: HashMap<u32, i64>,
    /// Function names (the name section), by function index.
    names: HashMap<u32, String>,
    /// Shadow-stack frame size, by function index, for functions that take one.
    frames: HashMap<u32, u64>,
    /// The defined mutable `i32` globals, in order.
    mutable_globals: Vec<u32>,
}

impl CoreModule {
    fn stack_size(&self) -> Option<u64> {
        let global = self.stack_pointer?;
        self.initial
            .get(&global)
            .and_then(|value| u64::try_from(*value).ok())
    }
}

impl StackMap {
    /// Read the layout from a component's (or a core module's) bytes. Parsing
    /// problems leave the map partial: this only improves error messages.
    pub(crate) fn parse(bytes: &[u8]) -> StackMap {
        let mut map = StackMap::default();
        // Which core module each nesting level belongs to (`None`: a component).
        let mut levels: Vec<Option<usize>> = vec![None];
        let mut bodies: Vec<(usize, u32, wasmparser::FunctionBody<'_>)> = Vec::new();
        let mut defined_functions: HashMap<usize, u32> = HashMap::new();
        let current = |levels: &Vec<Option<usize>>| levels.last().copied().flatten();
        for payload in Parser::new(0).parse_all(bytes) {
            let Ok(payload) = payload else { break };
            match payload {
                Payload::Version { encoding, .. } => {
                    if encoding == wasmparser::Encoding::Module {
                        map.modules.push(CoreModule::default());
                        levels.push(Some(map.modules.len() - 1));
                    } else {
                        levels.push(None);
                    }
                }
                Payload::End(_) => {
                    levels.pop();
                }
                Payload::ImportSection(reader) => {
                    let Some(module) = current(&levels) else {
                        continue;
                    };
                    for import in reader.into_imports().flatten() {
                        match import.ty {
                            wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) => {
                                map.modules[module].imported_functions += 1
                            }
                            wasmparser::TypeRef::Global(_) => {
                                map.modules[module].imported_globals += 1
                            }
                            _ => {}
                        }
                    }
                }
                Payload::GlobalSection(reader) => {
                    let Some(module) = current(&levels) else {
                        continue;
                    };
                    let module = &mut map.modules[module];
                    for (i, global) in reader.into_iter().enumerate() {
                        let Ok(global) = global else { break };
                        let index = module.imported_globals + i as u32;
                        if global.ty.mutable && global.ty.content_type == wasmparser::ValType::I32 {
                            module.mutable_globals.push(index);
                        }
                        let mut ops = global.init_expr.get_operators_reader();
                        if let Ok(Operator::I32Const { value }) = ops.read() {
                            module.initial.insert(index, i64::from(value as u32));
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let Some(module) = current(&levels) else {
                        continue;
                    };
                    let next = defined_functions.entry(module).or_insert(0);
                    let index = map.modules[module].imported_functions + *next;
                    *next += 1;
                    bodies.push((module, index, body));
                }
                Payload::CustomSection(reader) => {
                    let Some(module) = current(&levels) else {
                        continue;
                    };
                    if let KnownCustom::Name(names) = reader.as_known() {
                        for name in names.into_iter().flatten() {
                            match name {
                                Name::Function(naming) => {
                                    for naming in naming.into_iter().flatten() {
                                        map.modules[module]
                                            .names
                                            .insert(naming.index, naming.name.to_string());
                                    }
                                }
                                Name::Global(naming) => {
                                    for naming in naming.into_iter().flatten() {
                                        if naming.name == "__stack_pointer" {
                                            map.modules[module].stack_pointer = Some(naming.index);
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        for module in &mut map.modules {
            if module.stack_pointer.is_none() {
                module.stack_pointer = module.mutable_globals.first().copied();
            }
        }
        for (module, index, body) in bodies {
            let Some(stack_pointer) = map.modules[module].stack_pointer else {
                continue;
            };
            if let Some(frame) = prologue_frame(&body, stack_pointer) {
                map.modules[module].frames.insert(index, frame);
            }
        }
        map
    }

    /// The module a frame ran in: the one whose name section gives its
    /// function that name, else the one with a shadow stack and the most code.
    fn module_of(&self, frame: &wasmtime::FrameInfo) -> Option<&CoreModule> {
        if let Some(name) = frame.func_name() {
            let by_name = self.modules.iter().find(|module| {
                module.names.get(&frame.func_index()).map(String::as_str) == Some(name)
            });
            if by_name.is_some() {
                return by_name;
            }
        }
        self.modules
            .iter()
            .filter(|module| module.stack_size().is_some())
            .max_by_key(|module| module.frames.len())
    }
}

/// The frame size a function's prologue takes from the shadow stack:
/// `global.get $sp`, `i32.const N`, `i32.sub` (possibly through locals, as
/// in debug builds), within its first few instructions.
fn prologue_frame(body: &wasmparser::FunctionBody<'_>, stack_pointer: u32) -> Option<u64> {
    let mut reader = body.get_operators_reader().ok()?;
    let mut seen_get = false;
    let mut constant = None;
    for _ in 0..24 {
        let Ok(op) = reader.read() else { return None };
        match op {
            Operator::GlobalGet { global_index } if global_index == stack_pointer => {
                seen_get = true;
            }
            Operator::I32Const { value } if seen_get && constant.is_none() => {
                constant = Some(value);
            }
            Operator::I32Sub if seen_get => {
                return constant.and_then(|value| u64::try_from(value).ok());
            }
            Operator::Call { .. } | Operator::End | Operator::Return => return None,
            _ => {}
        }
    }
    None
}

/// What a trap from a call means, when it is more than a plain trap.
pub(crate) fn classify_trap<'a>(
    err: &wasmtime::Error,
    stack_map: impl FnOnce() -> Option<&'a StackMap>,
) -> Option<ErrorKind> {
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Some(ErrorKind::Exit { code: exit.0 });
    }
    let trap = err.downcast_ref::<wasmtime::Trap>()?;
    let frames = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|backtrace| backtrace.frames())
        .unwrap_or_default();
    let top = frames
        .first()
        .and_then(|frame| frame.func_name())
        .map(demangle);
    match trap {
        wasmtime::Trap::StackOverflow => Some(ErrorKind::StackOverflow {
            stack_size: None,
            needed: None,
            function: top,
        }),
        wasmtime::Trap::MemoryOutOfBounds => {
            let map = stack_map()?;
            let first = frames.first()?;
            let module = map.module_of(first)?;
            let stack_size = module.stack_size()?;
            let mut needed = 0u64;
            let mut biggest: Option<(u64, String)> = None;
            for frame in frames {
                let Some(frame_module) = map.module_of(frame) else {
                    continue;
                };
                if !std::ptr::eq(frame_module, module) {
                    continue;
                }
                let size = module.frames.get(&frame.func_index()).copied().unwrap_or(0);
                needed = needed.saturating_add(size);
                if biggest.as_ref().is_none_or(|(largest, _)| size > *largest) {
                    let name = frame
                        .func_name()
                        .map(demangle)
                        .unwrap_or_else(|| format!("function {}", frame.func_index()));
                    biggest = Some((size, name));
                }
            }
            let top_has_frame = module.frames.contains_key(&first.func_index());
            let truncated = frames.len() >= BACKTRACE_CAP;
            if needed >= stack_size || (truncated && top_has_frame) {
                let function = match &biggest {
                    Some((size, name)) if *size >= stack_size / 2 => Some(name.clone()),
                    _ => top,
                };
                Some(ErrorKind::StackOverflow {
                    stack_size: Some(stack_size),
                    needed: (needed >= stack_size).then_some(needed),
                    function,
                })
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A Rust symbol as an author writes it (`raw_stack_hog::checksum`), without
/// the hash.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}
