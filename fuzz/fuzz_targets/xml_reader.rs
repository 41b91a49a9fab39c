//! Arbitrary bytes → the guarded XML reader, with the default limits and with tiny ones.
//! It must never panic; a tree it accepts must respect every limit, hold local names only,
//! read back the same once written out again, and be accepted under larger limits too.
#![no_main]

use fuzz_support::check;
use libfuzzer_sys::fuzz_target;
use sita_sm_filter::xml::{self, Limits};

fuzz_target!(|data: &[u8]| {
    let default = Limits::default();
    let tiny = check::tiny();
    let with_default = xml::parse(data, &default);
    let with_tiny = xml::parse(data, &tiny);
    for (limits, result) in [(&default, &with_default), (&tiny, &with_tiny)] {
        match result {
            Ok(root) => {
                if let Err(e) = check::check_tree(data, root, limits) {
                    panic!("accepted tree breaks an invariant: {e}");
                }
                if !check::has_duplicate_attribute(root) {
                    let again = check::serialize(root);
                    match xml::parse(again.as_bytes(), &check::unlimited()) {
                        Ok(tree) => assert_eq!(&tree, root, "round trip through {again:?}"),
                        Err(e) => panic!("written-out tree refused: {e:?}: {again:?}"),
                    }
                }
            }
            Err(e) => {
                let detail = e.detail();
                assert!(!detail.is_empty());
                // The detail lands in the ErrorResponse: it must stay short.
                assert!(detail.chars().count() <= 300, "detail too long: {detail}");
            }
        }
    }
    // Every tiny limit is below its default: what passes the tiny ones passes the defaults.
    if let Ok(small) = &with_tiny {
        assert_eq!(
            with_default.as_ref().ok(),
            Some(small),
            "limits not monotonic"
        );
    }
});
