mod first {
    use torvyn_guest::prelude::*;

    #[torvyn::filter]
    fn keep(element: &Element) -> bool {
        element.sequence() < 10
    }
}

mod second {
    use torvyn_guest::prelude::*;

    #[torvyn::sink]
    fn push(_element: &Element) {}
}

fn main() {}
