fn only_json(element: &Element) -> bool {
    element.content_type() == "application/json"
}
#[doc(hidden)]
#[macro_export]
macro_rules! __one_torvyn_component_per_crate {
    () => {};
}
#[doc(hidden)]
#[allow(dead_code)]
struct __TorvynComponent;
impl ::torvyn_guest::__private::Lifecycle for __TorvynComponent {
    fn init(config: &::core::primitive::str) -> ::torvyn_guest::Result<()> {
        ::torvyn_guest::__private::init_without_handler(config);
        ::core::result::Result::Ok(())
    }
    fn teardown() {}
}
impl ::torvyn_guest::__private::Filter for __TorvynComponent {
    fn evaluate(
        element: &::torvyn_guest::Element<'_>,
    ) -> ::torvyn_guest::Result<::core::primitive::bool> {
        {
            let __torvyn_ret = only_json(element);
            ::torvyn_guest::__private::FilterReturn::into_result(__torvyn_ret)
        }
    }
}
const _: () = {
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Lifecycle>::init;
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Lifecycle>::teardown;
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Filter>::evaluate;
};
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(clippy::all, unused_qualifications)]
#[allow(unsafe_code)]
mod __torvyn_export {
    ::torvyn_guest::__private::wit_bindgen::generate!(
        { world : "torvyn:filtering/content-filter@0.1.0", path :
        ["$WIT/streaming",
        "$WIT/filtering"], with : {
        "torvyn:streaming/types@0.1.0" :
        ::torvyn_guest::__private::bindings::torvyn::streaming::types, }, runtime_path :
        "::torvyn_guest::__private::wit_bindgen::rt", }
    );
    struct __TorvynExport;
    impl exports::torvyn::streaming::lifecycle::Guest for __TorvynExport {
        fn init(
            config: ::torvyn_guest::__private::std::string::String,
        ) -> ::core::result::Result<
            (),
            ::torvyn_guest::__private::bindings::torvyn::streaming::types::ProcessError,
        > {
            ::torvyn_guest::__private::glue::init::<super::__TorvynComponent>(config)
        }
        fn teardown() {
            ::torvyn_guest::__private::glue::teardown::<super::__TorvynComponent>()
        }
    }
    impl exports::torvyn::filtering::filter::Guest for __TorvynExport {
        fn evaluate(
            element: ::torvyn_guest::__private::bindings::torvyn::streaming::types::StreamElement<
                '_,
            >,
        ) -> ::core::result::Result<
            ::core::primitive::bool,
            ::torvyn_guest::__private::bindings::torvyn::streaming::types::ProcessError,
        > {
            ::torvyn_guest::__private::glue::evaluate::<
                super::__TorvynComponent,
            >(element)
        }
    }
    export!(__TorvynExport);
}
