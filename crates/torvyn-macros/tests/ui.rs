//! trybuild UI tests: one failing fixture per mistake an author can make (with
//! the expected `.stderr`), and passing hygiene fixtures. Re-bless with
//! `TRYBUILD=overwrite cargo test -p torvyn-macros --test ui` (see DEVELOPMENT.md).
//! The `.stderr` files were made with rustc 1.95.0.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/filter/*.rs");
    t.compile_fail("tests/ui/stateful/*.rs");
    t.compile_fail("tests/ui/roles/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
