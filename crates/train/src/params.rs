//! Named parameters stored in one flat vector (what the optimisers update and the NPZ files hold).

use neuroxide::Real;

/// One named parameter: its shape and where it lies in the flat vector.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSlot {
    pub name: String,
    pub shape: Vec<usize>,
    pub offset: usize,
    pub len: usize,
    pub trainable: bool,
}

impl ParamSlot {
    pub fn new(name: &str, shape: &[usize]) -> Self {
        ParamSlot {
            name: name.to_string(),
            shape: shape.to_vec(),
            offset: 0,
            len: shape.iter().product(),
            trainable: false,
        }
    }
}

/// Every parameter of a model, flat.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSet<T> {
    pub slots: Vec<ParamSlot>,
    pub values: Vec<T>,
}

impl<T: Real> ParamSet<T> {
    /// Lay out `slots` one after the other with their initial values.
    pub fn from_slots(slots: Vec<(ParamSlot, Vec<f64>)>) -> Self {
        let mut values = Vec::new();
        let mut out = Vec::new();
        for (mut slot, v) in slots {
            debug_assert_eq!(v.len(), slot.len, "{}", slot.name);
            slot.offset = values.len();
            values.extend(v.iter().map(|&x| T::from_f64(x)));
            out.push(slot);
        }
        ParamSet { slots: out, values }
    }

    pub fn slot(&self, name: &str) -> Option<&ParamSlot> {
        self.slots.iter().find(|s| s.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&[T]> {
        self.slot(name)
            .map(|s| &self.values[s.offset..s.offset + s.len])
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut [T]> {
        let s = self.slot(name)?.clone();
        Some(&mut self.values[s.offset..s.offset + s.len])
    }

    /// 1 for every trainable entry, 0 elsewhere.
    pub fn trainable_mask(&self) -> Vec<bool> {
        let mut m = vec![false; self.values.len()];
        for s in &self.slots {
            if s.trainable {
                m[s.offset..s.offset + s.len]
                    .iter_mut()
                    .for_each(|v| *v = true);
            }
        }
        m
    }

    /// The parameters as named f64 arrays (for NPZ files).
    pub fn to_arrays(&self, prefix: &str) -> Vec<neuroxide::NamedArray> {
        self.slots
            .iter()
            .map(|s| neuroxide::NamedArray {
                name: format!("{prefix}{}", s.name),
                shape: s.shape.clone(),
                data: neuroxide::ArrayData::F64(
                    self.values[s.offset..s.offset + s.len]
                        .iter()
                        .map(|v| v.to_f64())
                        .collect(),
                ),
            })
            .collect()
    }

    /// Replace values from named arrays (missing names are an error; shapes must match).
    pub fn load_arrays(
        &mut self,
        arrays: &[neuroxide::NamedArray],
        prefix: &str,
    ) -> Result<(), String> {
        for s in self.slots.clone() {
            let name = format!("{prefix}{}", s.name);
            let a = arrays
                .iter()
                .find(|a| a.name == name)
                .ok_or_else(|| format!("no array `{name}`"))?;
            if a.shape != s.shape {
                return Err(format!(
                    "array `{name}` has shape {:?}, expected {:?}",
                    a.shape, s.shape
                ));
            }
            for (v, x) in self.values[s.offset..s.offset + s.len]
                .iter_mut()
                .zip(a.data.to_f64())
            {
                *v = T::from_f64(x);
            }
        }
        Ok(())
    }
}
