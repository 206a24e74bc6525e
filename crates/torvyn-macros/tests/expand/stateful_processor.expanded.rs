impl Enricher {
    fn init(config: Config) -> Result<Self> {
        Ok(Self { config })
    }
    fn process(&mut self, element: &Element) -> Result<Option<Output>> {
        todo!()
    }
    fn teardown(&mut self) {}
}
#[doc(hidden)]
#[macro_export]
macro_rules! __one_torvyn_component_per_crate {
    () => {};
}
#[doc(hidden)]
#[allow(dead_code)]
struct __TorvynComponent;
::sdk::__private::std::thread_local! {
    static __TORVYN_STATE : ::sdk::__private::StateCell < Enricher > = const {
    ::sdk::__private::StateCell::new() };
}
impl ::sdk::__private::Lifecycle for __TorvynComponent {
    fn init(config: &::core::primitive::str) -> ::sdk::Result<()> {
        #[allow(unused_imports)]
        use ::sdk::__private::{WithDefault as _, WithoutDefault as _};
        __TORVYN_STATE
            .with(|cell| {
                cell
                    .init(|| {
                        let config: Config = ::sdk::__private::parse_config::<
                            Config,
                        >(
                            config,
                            (&::sdk::__private::ConfigParser::<Config>::new())
                                .default_fn(),
                        )?;
                        let ret = <Enricher>::init(config);
                        ::sdk::__private::InitReturn::<Enricher>::into_result(ret)
                    })
            })
    }
    fn teardown() {
        __TORVYN_STATE.with(|cell| cell.teardown(|state| <Enricher>::teardown(state)));
    }
}
impl ::sdk::__private::Processor for __TorvynComponent {
    fn process(
        element: &::sdk::Element<'_>,
    ) -> ::sdk::Result<::core::option::Option<::sdk::Output>> {
        __TORVYN_STATE
            .with(|cell| {
                cell
                    .with(
                        "process",
                        ::sdk::__private::Missing::InitRequired,
                        |state| {
                            let __torvyn_ret = <Enricher>::process(state, element);
                            ::sdk::__private::MaybeOutput::into_result(__torvyn_ret)
                        },
                    )
            })
    }
}
const _: () = {
    let _ = <__TorvynComponent as ::sdk::__private::Lifecycle>::init;
    let _ = <__TorvynComponent as ::sdk::__private::Lifecycle>::teardown;
    let _ = <__TorvynComponent as ::sdk::__private::Processor>::process;
};
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(clippy::all, unused_qualifications)]
#[allow(unsafe_code)]
mod __torvyn_export {
    ::sdk::__private::wit_bindgen::generate!(
        { world : "torvyn:streaming/managed-transform@0.1.0", path :
        ["$WIT/streaming"], with : {
        "torvyn:streaming/types@0.1.0" :
        ::sdk::__private::bindings::torvyn::streaming::types,
        "torvyn:streaming/buffer-allocator@0.1.0" :
        ::sdk::__private::bindings::torvyn::streaming::buffer_allocator, }, runtime_path
        : "::sdk::__private::wit_bindgen::rt", }
    );
    struct __TorvynExport;
    impl exports::torvyn::streaming::lifecycle::Guest for __TorvynExport {
        fn init(
            config: ::sdk::__private::std::string::String,
        ) -> ::core::result::Result<
            (),
            ::sdk::__private::bindings::torvyn::streaming::types::ProcessError,
        > {
            ::sdk::__private::glue::init::<super::__TorvynComponent>(config)
        }
        fn teardown() {
            ::sdk::__private::glue::teardown::<super::__TorvynComponent>()
        }
    }
    impl exports::torvyn::streaming::processor::Guest for __TorvynExport {
        fn process(
            element: ::sdk::__private::bindings::torvyn::streaming::types::StreamElement<
                '_,
            >,
        ) -> ::core::result::Result<
            ::sdk::__private::bindings::torvyn::streaming::types::ProcessResult,
            ::sdk::__private::bindings::torvyn::streaming::types::ProcessError,
        > {
            ::sdk::__private::glue::process::<super::__TorvynComponent>(element)
        }
    }
    export!(__TorvynExport);
}
