//! Colour maps and line colours.

/// An RGB colour.
pub type Rgb = (u8, u8, u8);

/// Viridis (perceptually uniform, readable in grey), sampled at nine points.
const VIRIDIS: [Rgb; 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Blue–white–red, for signed values (weights): negative blue, zero white, positive red.
const DIVERGING: [Rgb; 9] = [
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
];

fn interpolate(points: &[Rgb], x: f64) -> Rgb {
    let x = if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let scaled = x * (points.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(points.len() - 2);
    let f = scaled - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (points[i], points[i + 1]);
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A colour map from values to colours.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ColourMap {
    /// Viridis, for non-negative quantities (rates).
    Viridis,
    /// Blue–white–red centred on zero, for signed quantities (weights, currents).
    Diverging,
}

impl ColourMap {
    /// The colour of `x` in `[0, 1]`.
    pub fn at(self, x: f64) -> Rgb {
        match self {
            ColourMap::Viridis => interpolate(&VIRIDIS, x),
            ColourMap::Diverging => interpolate(&DIVERGING, x),
        }
    }
}

/// Colour range of `values`: `[0, max]` for non-negative data, `[-m, m]` (symmetric) for the
/// diverging map, otherwise `[min, max]`; never empty. Non-finite values are ignored.
pub fn range(values: &[f64], map: ColourMap) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values.iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    let (lo, hi) = match map {
        ColourMap::Diverging => {
            let m = lo.abs().max(hi.abs());
            (-m, m)
        }
        ColourMap::Viridis if lo >= 0.0 => (0.0, hi),
        ColourMap::Viridis => (lo, hi),
    };
    if hi - lo > 0.0 {
        (lo, hi)
    } else if hi == 0.0 {
        (lo.min(0.0), 1.0)
    } else {
        (lo - hi.abs() * 0.5, hi + hi.abs() * 0.5)
    }
}

/// Line colours (Tableau 10), distinct at a glance.
pub const LINES: [Rgb; 10] = [
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (255, 127, 14),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// The `i`-th line colour.
pub fn line(i: usize) -> Rgb {
    LINES[i % LINES.len()]
}

/// `colour` lightened towards white by `amount` in `[0, 1]` (shades of one population's lanes).
pub fn lighten(colour: Rgb, amount: f64) -> Rgb {
    let a = amount.clamp(0.0, 1.0);
    let mix = |c: u8| (c as f64 + (255.0 - c as f64) * a).round() as u8;
    (mix(colour.0), mix(colour.1), mix(colour.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_hit_their_ends() {
        assert_eq!(ColourMap::Viridis.at(0.0), VIRIDIS[0]);
        assert_eq!(ColourMap::Viridis.at(1.0), VIRIDIS[8]);
        assert_eq!(ColourMap::Viridis.at(2.0), VIRIDIS[8]);
        assert_eq!(ColourMap::Diverging.at(0.5), (247, 247, 247));
        assert_eq!(ColourMap::Viridis.at(f64::NAN), VIRIDIS[0]);
    }

    #[test]
    fn ranges() {
        assert_eq!(range(&[1.0, 3.0], ColourMap::Viridis), (0.0, 3.0));
        assert_eq!(range(&[-1.0, 3.0], ColourMap::Viridis), (-1.0, 3.0));
        assert_eq!(range(&[-1.0, 3.0], ColourMap::Diverging), (-3.0, 3.0));
        assert_eq!(range(&[0.0, 0.0], ColourMap::Viridis), (0.0, 1.0));
        assert_eq!(range(&[], ColourMap::Viridis), (0.0, 1.0));
        assert_eq!(range(&[2.0, 2.0], ColourMap::Diverging), (-2.0, 2.0));
    }
}
