//! The one pseudo-random generator of the labs and of `blocklab stress`.
//!
//! Every lab builds its data from a fixed seed (`LabCtx::seed`) so that its
//! counters repeat exactly and can be pinned (tests/labs.rs,
//! tests/labs_pins, the book's charts). A pinned number depends on the
//! exact sequence a lab draws, so this module keeps both sequences the
//! labs were written with, each behind its own constructor:
//!
//! * [`Rng::splitmix64`]: splitmix64 started at the seed as given. The
//!   access and DML labs draw from it, and so does `blocklab stress`
//!   (which mixes its thread number into the seed itself).
//! * [`Rng::xorshift64`]: xorshift64 (13, 7, 17) started at the seed
//!   multiplied by the golden-ratio constant with the low bit set, because
//!   xorshift never leaves 0 and nearby seeds should give unrelated
//!   streams. The physical labs (C06, C07, C08, C30, C32, C40) draw from
//!   it.
//!
//! Changing either sequence, or which one a caller uses, changes the
//! pinned evidence: treat it as a change of every lab that draws from it.
//! Nothing here is meant to be statistically strong or secure; it only has
//! to be cheap, portable and the same on every run and machine.

/// A small deterministic generator; see the module doc for its two
/// sequences.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    sequence: Sequence,
}

/// Which recurrence `Rng::next_u64` steps.
#[derive(Clone, Copy, Debug)]
enum Sequence {
    SplitMix64,
    XorShift64,
}

impl Rng {
    /// splitmix64 from `seed` as given (the access and DML labs,
    /// `blocklab stress`).
    pub fn splitmix64(seed: u64) -> Rng {
        Rng {
            state: seed,
            sequence: Sequence::SplitMix64,
        }
    }

    /// xorshift64 from a mixed `seed` (the physical labs).
    pub fn xorshift64(seed: u64) -> Rng {
        Rng {
            // xorshift never leaves 0; mix the seed so nearby seeds differ.
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            sequence: Sequence::XorShift64,
        }
    }

    /// The next value of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        match self.sequence {
            Sequence::SplitMix64 => {
                self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = self.state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
            Sequence::XorShift64 => {
                let mut x = self.state;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.state = x;
                x
            }
        }
    }

    /// A value in `0..n`; `0` when `n` is 0 (one draw either way). The
    /// modulo bias is irrelevant at the sizes the labs use.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Fisher–Yates, in place.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sequences_are_the_ones_the_pins_were_taken_with() {
        // The first draws from seed 42, as the labs' generators gave them
        // before they were merged here: a change to either recurrence
        // shows here before it shows as a changed pin.
        let mut s = Rng::splitmix64(42);
        assert_eq!(
            [s.next_u64(), s.next_u64(), s.next_u64()],
            [
                0xbdd7_3226_2feb_6e95,
                0x28ef_e333_b266_f103,
                0x4752_6757_130f_9f52
            ]
        );
        let mut x = Rng::xorshift64(42);
        assert_eq!(
            [x.next_u64(), x.next_u64(), x.next_u64()],
            [
                0xd343_7968_948e_9705,
                0xd34b_deeb_6234_eb6b,
                0x9656_d686_d45d_387d
            ]
        );
        assert_ne!(Rng::xorshift64(0).next_u64(), 0);
    }

    #[test]
    fn the_generator_repeats_and_stays_in_range() {
        for make in [Rng::splitmix64, Rng::xorshift64] {
            let draw = || {
                let mut r = make(42);
                (0..5).map(|_| r.below(10)).collect::<Vec<u64>>()
            };
            let a = draw();
            assert_eq!(a, draw());
            assert!(a.iter().all(|&x| x < 10));
        }
        assert_eq!(Rng::splitmix64(7).below(0), 0);
    }

    #[test]
    fn a_shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..100).collect();
        Rng::splitmix64(42).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(v, sorted, "a shuffle of 100 moves something");
    }
}
