//! The first-come-first-served quota queue (R-FIL-6), as a pure decision.
//!
//! A round has a quota (its planned classes, including rollover, R-PLAN-3) and each institution
//! has a cap from its agreement (R-CAP-*). A filing takes one slot from both at submission, in
//! submission order. When either is exhausted the filing waits; a released slot goes to the first
//! waiting filing that its institution's cap allows.
//!
//! Storage keeps the facts (who holds a slot, who waits, in which order) and calls [`allocate`]
//! inside the one transaction that serialises writers (SECURITY.md S9). Submitting is "append to
//! the waiting list, then allocate"; releasing is "free the slot, then allocate". Because both go
//! through the same function, the queue's invariant holds after every step:
//!
//! > no waiting filing could be granted: for each, the round is full or its institution's cap is.

use std::collections::HashMap;
use std::hash::Hash;

/// One filing waiting for a slot, in submission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting<F, I> {
    pub filing: F,
    pub institution: I,
}

/// What is left to give: the round's free slots and each institution's free cap.
///
/// `cap_left` holds, for each institution with an agreement in the round, `cap − slots held`.
/// An institution missing from the map has no usable agreement (none signed, or terminated):
/// its filings are never granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity<I: Eq + Hash> {
    pub round_left: u32,
    pub cap_left: HashMap<I, u32>,
}

/// Grants slots to waiting filings in order until the round is full, skipping filings whose
/// institution has no cap left (R-FIL-6). Returns the granted filings in grant order and
/// updates `capacity` to what is left.
pub fn allocate<F: Copy, I: Copy + Eq + Hash>(
    capacity: &mut Capacity<I>,
    waiting: &[Waiting<F, I>],
) -> Vec<F> {
    let mut granted = Vec::new();
    for w in waiting {
        if capacity.round_left == 0 {
            break;
        }
        if let Some(left) = capacity.cap_left.get_mut(&w.institution)
            && *left > 0
        {
            *left -= 1;
            capacity.round_left -= 1;
            granted.push(w.filing);
        }
    }
    granted
}

/// Whether the queue's invariant holds: no waiting filing could be granted now.
pub fn is_settled<F, I: Eq + Hash>(capacity: &Capacity<I>, waiting: &[Waiting<F, I>]) -> bool {
    capacity.round_left == 0
        || waiting
            .iter()
            .all(|w| capacity.cap_left.get(&w.institution).copied().unwrap_or(0) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cap(round_left: u32, caps: &[(char, u32)]) -> Capacity<char> {
        Capacity {
            round_left,
            cap_left: caps.iter().copied().collect(),
        }
    }

    fn w(filing: u32, institution: char) -> Waiting<u32, char> {
        Waiting {
            filing,
            institution,
        }
    }

    #[test]
    fn r_fil_6_grants_in_submission_order_until_round_full() {
        let mut c = cap(2, &[('A', 5), ('B', 5)]);
        let granted = allocate(&mut c, &[w(1, 'A'), w(2, 'B'), w(3, 'A')]);
        assert_eq!(granted, vec![1, 2]);
        assert_eq!(c.round_left, 0);
        assert_eq!(c.cap_left[&'A'], 4);
    }

    #[test]
    fn r_fil_6_release_goes_to_first_waiting_filing_its_cap_allows() {
        // A has used its whole cap; the freed round slot passes A's filing 1 and goes to B's 2.
        let mut c = cap(1, &[('A', 0), ('B', 1)]);
        let granted = allocate(&mut c, &[w(1, 'A'), w(2, 'B'), w(3, 'B')]);
        assert_eq!(granted, vec![2]);
        assert!(is_settled(&c, &[w(1, 'A'), w(3, 'B')]));
    }

    #[test]
    fn r_agr_1_institution_without_agreement_is_never_granted() {
        let mut c = cap(3, &[('A', 3)]);
        assert_eq!(allocate(&mut c, &[w(1, 'Z'), w(2, 'A')]), vec![2]);
    }

    fn scenario() -> impl Strategy<Value = (u32, Vec<u32>, Vec<usize>)> {
        (0u32..12, prop::collection::vec(0u32..6, 1..5)).prop_flat_map(|(round, caps)| {
            let n = caps.len();
            (Just(round), Just(caps), prop::collection::vec(0..n, 0..30))
        })
    }

    proptest! {
        /// S9 / R-FIL-6: never more than the quota or a cap, order kept, invariant restored.
        #[test]
        fn r_fil_6_allocation_respects_quota_caps_and_order((round, caps, subs) in scenario()) {
            let mut c = Capacity {
                round_left: round,
                cap_left: caps.iter().enumerate().map(|(i, &k)| (i, k)).collect(),
            };
            let waiting: Vec<Waiting<usize, usize>> = subs
                .iter()
                .enumerate()
                .map(|(f, &i)| Waiting { filing: f, institution: i })
                .collect();
            let granted = allocate(&mut c, &waiting);

            prop_assert!(granted.len() as u32 <= round);
            for (i, &k) in caps.iter().enumerate() {
                let n = granted.iter().filter(|&&f| subs[f] == i).count() as u32;
                prop_assert!(n <= k);
                prop_assert_eq!(c.cap_left[&i], k - n);
            }
            prop_assert!(granted.windows(2).all(|p| p[0] < p[1]), "grant order is submission order");
            let rest: Vec<_> = waiting.iter().copied().filter(|x| !granted.contains(&x.filing)).collect();
            prop_assert!(is_settled(&c, &rest));
            // Within one institution nobody is passed over: its granted filings are its earliest.
            for i in 0..caps.len() {
                let mine: Vec<usize> = waiting.iter().filter(|x| x.institution == i).map(|x| x.filing).collect();
                let got = granted.iter().filter(|&&f| subs[f] == i).count();
                prop_assert!(mine[..got].iter().all(|f| granted.contains(f)));
            }
        }
    }
}
