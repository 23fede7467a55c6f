//! Counter-based random numbers: Philox4x32-10 and the transforms built on it.
//!
//! Every random number of a simulation is a pure function of `(seed, stream, counter)`:
//!
//! * the **key** (two 32-bit words) is derived from the run's seed and a *stream* number
//!   ([`Philox4x32::new`]); streams name what the numbers are for ([`stream_id`]: a hash of a
//!   purpose string such as `"noise"` or `"conn"` and an index such as a projection, population or
//!   lane);
//! * the **counter** (four 32-bit words) says which block of four words is wanted, e.g.
//!   `[step_lo, step_hi, neuron, lane_pair]` for per-step noise ([`normals_for`]) or
//!   `[row_lo, row_hi, draw_lo, draw_hi]` for construction-time sampling ([`CounterRng`]).
//!
//! No generator state is shared between threads, so any thread count, any chunking, and later a
//! GPU running the same formula, give the same numbers. The block function is the Random123
//! `philox4x32_10` (the same as cuRAND's `Philox4_32_10` and JAX's Philox), checked against the
//! Random123 known-answer vectors in the tests.
//!
//! The transforms ([`unit_open`], [`normal_pair`], ...) are written out here (Box–Muller,
//! inversion) so that they can be mirrored bit for bit in other back ends.

/// Philox multiplier of the first word pair (Random123 `PHILOX_M4x32_0`).
const PHILOX_M0: u32 = 0xD251_1F53;
/// Philox multiplier of the second word pair (Random123 `PHILOX_M4x32_1`).
const PHILOX_M1: u32 = 0xCD9E_8D57;
/// Weyl increment of key word 0 (golden ratio, Random123 `PHILOX_W32_0`).
const PHILOX_W0: u32 = 0x9E37_79B9;
/// Weyl increment of key word 1 (sqrt(3) - 1, Random123 `PHILOX_W32_1`).
const PHILOX_W1: u32 = 0xBB67_AE85;

/// The Philox4x32-10 block function with a fixed 64-bit key.
///
/// `block(counter)` maps a 128-bit counter to 128 random bits through 10 rounds of
/// `(hi, lo) = M * c` multiplications, XORs with the key and key bumps by the Weyl constants,
/// exactly as in Random123's `philox4x32_R(10, ctr, key)`. It is a bijection of the counter for a
/// fixed key, so distinct counters never repeat a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Philox4x32 {
    key: [u32; 2],
}

/// SplitMix64 finaliser (Steele, Lea & Flood; Vigna's `splitmix64.c` output function applied to
/// `x + 0x9E3779B97F4A7C15`): a fast, well-mixing bijection of 64-bit integers.
///
/// `splitmix64(x)` equals the first output of a SplitMix64 generator seeded with `x`.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

#[inline(always)]
fn philox_round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mulhilo(PHILOX_M0, ctr[0]);
    let (hi1, lo1) = mulhilo(PHILOX_M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

impl Philox4x32 {
    /// A generator with the given raw key words (Random123's `key[0]`, `key[1]`).
    pub const fn from_key(key: [u32; 2]) -> Self {
        Self { key }
    }

    /// A generator keyed by a run `seed` and a `stream` number.
    ///
    /// The 64-bit key is `k = splitmix64(splitmix64(seed) ^ splitmix64(stream ^ C))` with a fixed
    /// constant `C`, split into `[k as u32, k >> 32]`. Nearby seeds and streams therefore give
    /// unrelated keys, and `(seed, stream)` and `(stream, seed)` differ.
    pub fn new(seed: u64, stream: u64) -> Self {
        let k = splitmix64(splitmix64(seed) ^ splitmix64(stream ^ 0x6A09_E667_F3BC_C908));
        Self::from_key([k as u32, (k >> 32) as u32])
    }

    /// The two key words.
    pub const fn key(&self) -> [u32; 2] {
        self.key
    }

    /// The 128 random bits of block `counter`: Philox4x32 with 10 rounds.
    #[inline]
    pub fn block(&self, counter: [u32; 4]) -> [u32; 4] {
        let mut key = self.key;
        let mut ctr = philox_round(counter, key);
        for _ in 1..10 {
            key[0] = key[0].wrapping_add(PHILOX_W0);
            key[1] = key[1].wrapping_add(PHILOX_W1);
            ctr = philox_round(ctr, key);
        }
        ctr
    }
}

/// Blocks computed together by [`Philox4x32::blocks`].
pub const PHILOX_BATCH: usize = 8;

impl Philox4x32 {
    /// [`Philox4x32::block`] of [`PHILOX_BATCH`] counters at once, with the words laid out
    /// lane-wise so that the compiler can run the rounds on vector registers (256-bit ones where
    /// the CPU has AVX2, detected at run time). Integer arithmetic only, so bitwise equal to
    /// calling `block` on each counter on every CPU (tested).
    #[inline]
    pub fn blocks(&self, counters: &[[u32; 4]; PHILOX_BATCH]) -> [[u32; 4]; PHILOX_BATCH] {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { self.blocks_avx2(counters) };
        }
        self.blocks_portable(counters)
    }

    /// [`Philox4x32::blocks_portable`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn blocks_avx2(&self, counters: &[[u32; 4]; PHILOX_BATCH]) -> [[u32; 4]; PHILOX_BATCH] {
        self.blocks_portable(counters)
    }

    /// The batched rounds for the baseline instruction set.
    #[inline(always)]
    fn blocks_portable(&self, counters: &[[u32; 4]; PHILOX_BATCH]) -> [[u32; 4]; PHILOX_BATCH] {
        let mut x = [[0u32; PHILOX_BATCH]; 4];
        for (i, c) in counters.iter().enumerate() {
            for w in 0..4 {
                x[w][i] = c[w];
            }
        }
        let mut key = self.key;
        for round in 0..10 {
            if round > 0 {
                key[0] = key[0].wrapping_add(PHILOX_W0);
                key[1] = key[1].wrapping_add(PHILOX_W1);
            }
            let mut next = [[0u32; PHILOX_BATCH]; 4];
            for i in 0..PHILOX_BATCH {
                let p0 = u64::from(PHILOX_M0) * u64::from(x[0][i]);
                let p1 = u64::from(PHILOX_M1) * u64::from(x[2][i]);
                next[0][i] = ((p1 >> 32) as u32) ^ x[1][i] ^ key[0];
                next[1][i] = p1 as u32;
                next[2][i] = ((p0 >> 32) as u32) ^ x[3][i] ^ key[1];
                next[3][i] = p0 as u32;
            }
            x = next;
        }
        let mut out = [[0u32; 4]; PHILOX_BATCH];
        for (i, o) in out.iter_mut().enumerate() {
            for w in 0..4 {
                o[w] = x[w][i];
            }
        }
        out
    }
}

/// A stable 64-bit stream number for a `purpose` (e.g. `"noise"`, `"conn"`, `"init"`) and an
/// `index` (projection, population, lane, ...).
///
/// `stream_id = splitmix64(fnv1a64(purpose) ^ splitmix64(index))`, where `fnv1a64` is the 64-bit
/// FNV-1a hash of the UTF-8 bytes. It depends on nothing but its arguments, so it is the same on
/// every platform, thread count and version (a test pins a value).
pub fn stream_id(purpose: &str, index: u64) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in purpose.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    splitmix64(h ^ splitmix64(index))
}

/// 2⁻⁵².
const TWO_POW_M52: f64 = 1.0 / 4_503_599_627_370_496.0;
/// 2⁻²³.
const TWO_POW_M23: f32 = 1.0 / 8_388_608.0;

/// A uniform number in the open interval (0, 1) from two 32-bit words.
///
/// `u = (m + 1/2) · 2⁻⁵²` with `m` the top 52 bits of `(a << 32) | b`: the values are the odd
/// multiples of 2⁻⁵³, from 2⁻⁵³ to 1 − 2⁻⁵³, all exactly representable, so `ln u` is always finite
/// and `u` is never 1.
#[inline(always)]
pub fn unit_open(a: u32, b: u32) -> f64 {
    let bits = (u64::from(a) << 32) | u64::from(b);
    // Below 2⁵², so the signed conversion (one instruction) gives the same value as the unsigned.
    (((bits >> 12) as i64) as f64 + 0.5) * TWO_POW_M52
}

/// A uniform `f32` in the open interval (0, 1) from one 32-bit word: `((a >> 9) + 1/2) · 2⁻²³`.
#[inline(always)]
pub fn unit_f32(a: u32) -> f32 {
    ((a >> 9) as f32 + 0.5) * TWO_POW_M23
}

/// Two independent standard normal numbers from four 32-bit words (Box–Muller).
///
/// With `u1 = unit_open(a, b)` and `u2 = unit_open(c, d)`, `r = sqrt(-2 ln u1)` and
/// `φ = 2π u2`, returns `(r cos φ, r sin φ)`.
#[inline]
pub fn normal_pair(a: u32, b: u32, c: u32, d: u32) -> (f64, f64) {
    let u1 = unit_open(a, b);
    let u2 = unit_open(c, d);
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, co) = (std::f64::consts::TAU * u2).sin_cos();
    (r * co, r * s)
}

/// The two standard normal numbers of neuron `neuron`, lanes `2·lane_pair` and `2·lane_pair + 1`,
/// at time step `step`: [`normal_pair`] of the block at counter
/// `[step_lo, step_hi, neuron, lane_pair]`.
///
/// This is the per-step noise of the kernels; it is a pure function of its arguments, so noise
/// does not depend on how neurons or lanes are split between threads.
#[inline]
pub fn normals_for(key: &Philox4x32, step: u64, neuron: u32, lane_pair: u32) -> (f64, f64) {
    let [a, b, c, d] = key.block([step as u32, (step >> 32) as u32, neuron, lane_pair]);
    normal_pair(a, b, c, d)
}

/// A sequential reader over the blocks of one `(seed, stream, row)`, for construction-time
/// sampling (connectivity, weights, initial conditions).
///
/// Block `n` read by the reader is `Philox4x32::new(seed, stream).block([row_lo, row_hi, n_lo,
/// n_hi])`; words are consumed in order, four per block. The sequence depends only on
/// `(seed, stream, row)`: the same triple gives the same numbers whatever thread runs it, which
/// is what lets connectivity be sampled row-parallel and still be identical for any thread count.
#[derive(Clone, Debug)]
pub struct CounterRng {
    key: Philox4x32,
    row: u64,
    draw: u64,
    buf: [u32; 4],
    pos: usize,
    cached_normal: Option<f64>,
}

impl CounterRng {
    /// The reader of `(seed, stream, row)`, positioned at its first word.
    pub fn new(seed: u64, stream: u64, row: u64) -> Self {
        Self::with_key(Philox4x32::new(seed, stream), row)
    }

    /// The reader of block row `row` under an existing key.
    pub fn with_key(key: Philox4x32, row: u64) -> Self {
        Self {
            key,
            row,
            draw: 0,
            buf: [0; 4],
            pos: 4,
            cached_normal: None,
        }
    }

    #[inline]
    fn refill(&mut self) {
        let d = self.draw;
        self.buf = self.key.block([
            self.row as u32,
            (self.row >> 32) as u32,
            d as u32,
            (d >> 32) as u32,
        ]);
        self.draw = d.wrapping_add(1);
        self.pos = 0;
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == 4 {
            self.refill();
        }
        let v = self.buf[self.pos];
        self.pos += 1;
        v
    }

    /// The next 64 random bits (two words, the first one high).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32();
        let lo = self.next_u32();
        (u64::from(hi) << 32) | u64::from(lo)
    }

    /// A uniform number in the open interval (0, 1): [`unit_open`] of the next two words.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        let a = self.next_u32();
        let b = self.next_u32();
        unit_open(a, b)
    }

    /// A standard normal number (Box–Muller over the next four words; the sine branch is cached
    /// and returned by the following call).
    #[inline]
    pub fn next_normal(&mut self) -> f64 {
        if let Some(z) = self.cached_normal.take() {
            return z;
        }
        let (a, b, c, d) = (
            self.next_u32(),
            self.next_u32(),
            self.next_u32(),
            self.next_u32(),
        );
        let (z0, z1) = normal_pair(a, b, c, d);
        self.cached_normal = Some(z1);
        z0
    }

    /// A uniform integer in `0..n`, without bias (Lemire's multiply-and-reject method).
    ///
    /// # Panics
    /// If `n == 0`.
    #[inline]
    pub fn next_below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "next_below(0): empty range");
        let mut m = u64::from(self.next_u32()) * u64::from(n);
        if (m as u32) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u32) < threshold {
                m = u64::from(self.next_u32()) * u64::from(n);
            }
        }
        (m >> 32) as u32
    }

    /// An exponential number with mean 1: `-ln u`, `u` from [`next_f64`](Self::next_f64).
    #[inline]
    pub fn next_exponential(&mut self) -> f64 {
        -self.next_f64().ln()
    }
}
