//! Physical quantities in model files.
//!
//! A value may carry its unit (`tau: 20 ms`, `duration: 1.5 s`, `phase: 90 deg`); a bare number is
//! in the documented unit of its kind: time in milliseconds, angles in degrees, voltage in
//! millivolts, current in picoamperes, conductance in nanosiemens, rate in hertz. The value is
//! converted once, when the file is read, and written back with its unit so that a resolved spec
//! reads the same way the user wrote it.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// A kind of physical quantity: its documented unit and the units accepted for it.
pub trait Dimension:
    Copy + Clone + fmt::Debug + PartialEq + Default + Send + Sync + 'static
{
    /// Name used in error messages ("a time", "an angle").
    const WHAT: &'static str;
    /// The documented unit: bare numbers are in this unit, values are stored in it.
    const UNIT: &'static str;
    /// Accepted unit spellings with their factor to the documented unit.
    const UNITS: &'static [(&'static str, f64)];
}

macro_rules! dimension {
    ($(#[$doc:meta])* $name:ident, $what:literal, $unit:literal, [$(($u:literal, $f:expr)),* $(,)?]) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Default)]
        pub struct $name;
        impl Dimension for $name {
            const WHAT: &'static str = $what;
            const UNIT: &'static str = $unit;
            const UNITS: &'static [(&'static str, f64)] = &[$(($u, $f)),*];
        }
    };
}

dimension!(
    /// Time; documented unit milliseconds.
    TimeDim, "a time", "ms",
    [("ms", 1.0), ("s", 1e3), ("us", 1e-3), ("µs", 1e-3), ("min", 6e4)]
);
dimension!(
    /// Angle; documented unit degrees.
    AngleDim, "an angle", "deg",
    [("deg", 1.0), ("°", 1.0), ("rad", 180.0 / std::f64::consts::PI)]
);
dimension!(
    /// Firing rate; documented unit hertz.
    RateDim, "a rate", "Hz",
    [("Hz", 1.0), ("kHz", 1e3), ("mHz", 1e-3)]
);
dimension!(
    /// Membrane voltage; documented unit millivolts.
    VoltageDim, "a voltage", "mV",
    [("mV", 1.0), ("V", 1e3), ("uV", 1e-3), ("µV", 1e-3)]
);
dimension!(
    /// Current; documented unit picoamperes.
    CurrentDim, "a current", "pA",
    [("pA", 1.0), ("nA", 1e3), ("uA", 1e6), ("µA", 1e6), ("fA", 1e-3)]
);
dimension!(
    /// Conductance; documented unit nanosiemens.
    ConductanceDim, "a conductance", "nS",
    [("nS", 1.0), ("uS", 1e3), ("µS", 1e3), ("pS", 1e-3), ("mS", 1e6)]
);

dimension!(
    /// Capacitance; documented unit picofarads.
    CapacitanceDim, "a capacitance", "pF",
    [("pF", 1.0), ("nF", 1e3), ("uF", 1e6), ("µF", 1e6)]
);

/// A value of dimension `D`, stored in `D`'s documented unit.
#[derive(Copy, Clone, Debug, PartialEq, Default)]
pub struct Quantity<D: Dimension> {
    value: f64,
    dim: PhantomData<D>,
}

/// A time in milliseconds.
pub type Time = Quantity<TimeDim>;
/// An angle in degrees.
pub type Angle = Quantity<AngleDim>;
/// A rate in hertz.
pub type Rate = Quantity<RateDim>;
/// A voltage in millivolts.
pub type Voltage = Quantity<VoltageDim>;
/// A current in picoamperes.
pub type Current = Quantity<CurrentDim>;
/// A conductance in nanosiemens.
pub type Conductance = Quantity<ConductanceDim>;
/// A capacitance in picofarads.
pub type Capacitance = Quantity<CapacitanceDim>;

impl<D: Dimension> Quantity<D> {
    /// A quantity from a value in the documented unit.
    pub const fn new(value: f64) -> Self {
        Quantity {
            value,
            dim: PhantomData,
        }
    }
    /// The value in the documented unit (ms, deg, Hz, mV, pA, nS).
    pub const fn value(self) -> f64 {
        self.value
    }
    /// Parse `"20 ms"`, `"0.5s"`, `"20"`; a bare number is in the documented unit.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_digit()
                    || c == '.'
                    || c == '+'
                    || c == '-'
                    || ((c == 'e' || c == 'E')
                        && text[i + 1..]
                            .starts_with(|d: char| d.is_ascii_digit() || d == '-' || d == '+')))
            })
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.trim().parse().map_err(|_| {
            format!(
                "`{text}` is not {}: expected a number with an optional unit, e.g. `20 {}`",
                D::WHAT,
                D::UNIT
            )
        })?;
        let unit = unit.trim();
        if unit.is_empty() {
            return Ok(Self::new(number));
        }
        match D::UNITS.iter().find(|(u, _)| *u == unit) {
            Some((_, factor)) => Ok(Self::new(number * factor)),
            None => Err(format!(
                "unknown unit `{unit}` for {}: expected one of {}",
                D::WHAT,
                D::UNITS
                    .iter()
                    .map(|(u, _)| *u)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

impl Time {
    /// The time in seconds.
    pub fn seconds(self) -> f64 {
        self.value * 1e-3
    }
    /// The time in milliseconds.
    pub fn ms(self) -> f64 {
        self.value
    }
}

impl Angle {
    /// The angle in radians.
    pub fn radians(self) -> f64 {
        self.value.to_radians()
    }
}

impl<D: Dimension> fmt::Display for Quantity<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, D::UNIT)
    }
}

impl<D: Dimension> Serialize for Quantity<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de, D: Dimension> Deserialize<'de> for Quantity<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct QuantityVisitor<D>(PhantomData<D>);
        impl<D: Dimension> Visitor<'_> for QuantityVisitor<D> {
            type Value = Quantity<D>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "{} (a number in {} or a string with a unit such as `20 {}`)",
                    D::WHAT,
                    D::UNIT,
                    D::UNIT
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Quantity::new(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Quantity::new(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Quantity::new(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Quantity::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(QuantityVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_bare_numbers() {
        assert_eq!(Time::parse("20 ms").unwrap().ms(), 20.0);
        assert_eq!(Time::parse("0.5s").unwrap().ms(), 500.0);
        assert_eq!(Time::parse("1e-3 s").unwrap().ms(), 1.0);
        assert_eq!(Time::parse("100 us").unwrap().ms(), 0.1);
        assert_eq!(Time::parse("7").unwrap().ms(), 7.0);
        assert!((Angle::parse("3.141592653589793 rad").unwrap().value() - 180.0).abs() < 1e-12);
        assert_eq!(Voltage::parse("-70 mV").unwrap().value(), -70.0);
    }

    #[test]
    fn rejects_bad_units_with_the_accepted_list() {
        let err = Time::parse("20 Hz").unwrap_err();
        assert!(
            err.contains("unknown unit `Hz`") && err.contains("ms, s"),
            "{err}"
        );
        let err = Time::parse("fast").unwrap_err();
        assert!(err.contains("not a time"), "{err}");
    }

    #[test]
    fn display_round_trips() {
        for text in ["0.1 ms", "20 ms", "1500 ms"] {
            let t = Time::parse(text).unwrap();
            assert_eq!(Time::parse(&t.to_string()).unwrap(), t);
        }
    }
}
