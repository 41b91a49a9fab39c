#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

#[test]
fn smoke() {
    let el = parse(b"<a x='1'>hi<b/></a>", &Limits::default()).unwrap();
    assert_eq!(el.name, "a");
}
