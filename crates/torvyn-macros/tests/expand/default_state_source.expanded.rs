impl Countdown {
    fn pull(&mut self) -> Option<Output> {
        None
    }
}
#[doc(hidden)]
#[macro_export]
macro_rules! __one_torvyn_component_per_crate {
    () => {};
}
#[doc(hidden)]
#[allow(dead_code)]
struct __TorvynComponent;
::torvyn_guest::__private::std::thread_local! {
    static __TORVYN_STATE : ::torvyn_guest::__private::StateCell < Countdown > = const {
    ::torvyn_guest::__private::StateCell::new() };
}
impl ::torvyn_guest::__private::Lifecycle for __TorvynComponent {
    fn init(config: &::core::primitive::str) -> ::torvyn_guest::Result<()> {
        ::torvyn_guest::__private::init_without_handler(config);
        __TORVYN_STATE
            .with(|cell| {
                cell
                    .init(|| {
                        ::core::result::Result::Ok(
                            ::torvyn_guest::__private::default_state::<Countdown>(),
                        )
                    })
            })
    }
    fn teardown() {
        __TORVYN_STATE.with(|cell| cell.teardown(|_| {}));
    }
}
impl ::torvyn_guest::__private::Source for __TorvynComponent {
    fn pull() -> ::torvyn_guest::Result<::core::option::Option<::torvyn_guest::Output>> {
        __TORVYN_STATE
            .with(|cell| {
                cell
                    .with(
                        "pull",
                        ::torvyn_guest::__private::Missing::Create(
                            ::torvyn_guest::__private::default_state::<Countdown>,
                        ),
                        |state| {
                            let __torvyn_ret = <Countdown>::pull(state);
                            ::torvyn_guest::__private::MaybeOutput::into_result(
                                __torvyn_ret,
                            )
                        },
                    )
            })
    }
    fn notify_backpressure(signal: ::torvyn_guest::Backpressure) {
        let _ = ();
    }
}
const _: () = {
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Lifecycle>::init;
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Lifecycle>::teardown;
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Source>::pull;
    let _ = <__TorvynComponent as ::torvyn_guest::__private::Source>::notify_backpressure;
};
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(clippy::all, unused_qualifications)]
#[allow(unsafe_code)]
mod __torvyn_export {
    ::torvyn_guest::__private::wit_bindgen::generate!(
        { world : "torvyn:streaming/data-source@0.1.0", path :
        ["$WIT/streaming"], with : {
        "torvyn:streaming/types@0.1.0" :
        ::torvyn_guest::__private::bindings::torvyn::streaming::types,
        "torvyn:streaming/buffer-allocator@0.1.0" :
        ::torvyn_guest::__private::bindings::torvyn::streaming::buffer_allocator, },
        runtime_path : "::torvyn_guest::__private::wit_bindgen::rt", }
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
    impl exports::torvyn::streaming::source::Guest for __TorvynExport {
        fn pull() -> ::core::result::Result<
            ::core::option::Option<
                ::torvyn_guest::__private::bindings::torvyn::streaming::types::OutputElement,
            >,
            ::torvyn_guest::__private::bindings::torvyn::streaming::types::ProcessError,
        > {
            ::torvyn_guest::__private::glue::pull::<super::__TorvynComponent>()
        }
        fn notify_backpressure(
            signal: ::torvyn_guest::__private::bindings::torvyn::streaming::types::BackpressureSignal,
        ) {
            ::torvyn_guest::__private::glue::notify_backpressure::<
                super::__TorvynComponent,
            >(signal)
        }
    }
    export!(__TorvynExport);
}
