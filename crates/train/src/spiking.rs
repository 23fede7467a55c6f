//! A recurrent network of leaky integrate-and-fire neurons trained with surrogate gradients.
//!
//! Discrete time, per lane (Zenke & Ganguli 2018; Neftci, Mostafa & Zenke 2019):
//! * spikes `s_t = H(v_t − θ)`;
//! * membrane `v_{t+1} = β v_t (1 − s_t) + (1 − β)(W s_t + W_in x_t + b)` (reset to 0 after a spike;
//!   by default the reset factor is detached from the gradient, as RectiPy detaches its reset
//!   mask; `detach_reset: false` differentiates through it too);
//! * filtered spikes `o_{t+1} = κ o_t + (1 − κ) s_{t+1}`, output `y_t = W_out o_{t+1} + b_out`.
//!
//! The backward pass replaces H' by RectiPy's surrogate `g/(1 + slope·|v − θ|)²` (the SuperSpike
//! fast sigmoid). With [`Surrogate::smooth_forward`] set, the forward pass uses the function whose
//! derivative that is, `½ + g(v − θ)/(1 + slope·|v − θ|)`, so the adjoint can be checked against
//! finite differences exactly. States are kept for every step (spiking tasks here are short);
//! [`crate::model::RateModel`] is the one with checkpointing.

use crate::linalg::{add_column_sums, gemm, mat};
use crate::model::PassOptions;
use crate::params::{ParamSet, ParamSlot};
use crate::trainer::Network;
use crate::{TrainError, seeded_rng};
use neuroxide::Real;

/// The surrogate derivative `g/(1 + slope·|x|)²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Surrogate {
    pub gain: f64,
    pub slope: f64,
    /// Use the smooth function in the forward pass too (for gradient checks).
    pub smooth_forward: bool,
}

impl Surrogate {
    fn spike<T: Real>(&self, x: T) -> T {
        if self.smooth_forward {
            let a = if x < T::ZERO { -x } else { x };
            T::from_f64(0.5) + T::from_f64(self.gain) * x / (T::ONE + T::from_f64(self.slope) * a)
        } else if x > T::ZERO {
            T::ONE
        } else {
            T::ZERO
        }
    }
    fn derivative<T: Real>(&self, x: T) -> T {
        let a = if x < T::ZERO { -x } else { x };
        let d = T::ONE + T::from_f64(self.slope) * a;
        T::from_f64(self.gain) / (d * d)
    }
}

/// The structure of a spiking RNN.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikingSpec {
    pub n: usize,
    pub n_in: usize,
    pub n_out: usize,
    /// β = e^{−dt/τ_m}.
    pub beta: f64,
    /// κ = e^{−dt/τ_out} of the output filter.
    pub kappa: f64,
    pub threshold: f64,
    pub surrogate: Surrogate,
    /// Leave the reset out of the gradient (RectiPy; default true).
    pub detach_reset: bool,
    /// Standard deviations of the initial weights: recurrent (×1/√N), input (×1/√N_in),
    /// output (×1/√N).
    pub rho_recurrent: f64,
    pub rho_input: f64,
    pub rho_output: f64,
    pub trainable: Vec<String>,
    pub seed: u64,
}

impl SpikingSpec {
    pub fn new(n: usize, n_in: usize, n_out: usize) -> Self {
        SpikingSpec {
            n,
            n_in,
            n_out,
            beta: 0.9,
            kappa: 0.9,
            threshold: 1.0,
            surrogate: Surrogate {
                gain: 1.0,
                slope: 5.0,
                smooth_forward: false,
            },
            detach_reset: true,
            rho_recurrent: 0.5,
            rho_input: 3.0,
            rho_output: 1.0,
            trainable: ["recurrent", "readin", "readout", "bias", "bias_out"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            seed: 0,
        }
    }
}

/// A spiking RNN with its parameters.
#[derive(Clone, Debug)]
pub struct SpikingRnn<T: Real> {
    pub spec: SpikingSpec,
    pub params: ParamSet<T>,
}

/// Everything the forward pass keeps: v, s, o at steps 0..=T.
#[derive(Clone, Debug)]
pub struct SpikingCache<T> {
    pub steps: usize,
    pub lanes: usize,
    pub v: Vec<T>,
    pub s: Vec<T>,
    pub o: Vec<T>,
}

impl<T: Real> SpikingRnn<T> {
    pub fn new(spec: SpikingSpec) -> Result<Self, TrainError> {
        let (n, n_in, n_out) = (spec.n, spec.n_in, spec.n_out);
        if n == 0 || n_in == 0 || n_out == 0 {
            return Err(TrainError::invalid(
                "model.size",
                format!("{n} neurons, {n_in} inputs, {n_out} outputs"),
                "positive sizes",
            ));
        }
        let mut rng = seeded_rng(spec.seed, "train.spiking.init");
        let mut normal = |len: usize, std: f64| -> Vec<f64> {
            (0..len).map(|_| rng.next_normal() * std).collect()
        };
        let slots = vec![
            (
                ParamSlot::new("recurrent", &[n, n]),
                normal(n * n, spec.rho_recurrent / (n as f64).sqrt()),
            ),
            (
                ParamSlot::new("readin", &[n, n_in]),
                normal(n * n_in, spec.rho_input / (n_in as f64).sqrt()),
            ),
            (
                ParamSlot::new("readout", &[n_out, n]),
                normal(n * n_out, spec.rho_output / (n as f64).sqrt()),
            ),
            (ParamSlot::new("bias", &[n]), vec![0.0; n]),
            (ParamSlot::new("bias_out", &[n_out]), vec![0.0; n_out]),
        ];
        let names: Vec<String> = slots.iter().map(|(s, _)| s.name.clone()).collect();
        for t in &spec.trainable {
            if !names.contains(t) {
                return Err(TrainError::invalid(
                    "train.parameters",
                    t,
                    format!(
                        "the name of a parameter of this model ({})",
                        names.join(", ")
                    ),
                ));
            }
        }
        let mut params = ParamSet::from_slots(slots);
        for s in &mut params.slots {
            s.trainable = spec.trainable.contains(&s.name);
        }
        Ok(SpikingRnn { spec, params })
    }

    /// Run `steps` steps on `lanes` trials (`x`: T × B × N_in); outputs T × B × N_out.
    pub fn forward(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
    ) -> Result<(Vec<T>, SpikingCache<T>), TrainError> {
        let SpikingSpec { n, n_in, n_out, .. } = self.spec;
        if x.len() != steps * lanes * n_in {
            return Err(TrainError::Shape(format!(
                "the input has {} values, expected {steps} × {lanes} × {n_in}",
                x.len()
            )));
        }
        let bn = lanes * n;
        let w = self.params.get("recurrent").unwrap();
        let w_in = self.params.get("readin").unwrap();
        let w_out = self.params.get("readout").unwrap();
        let b = self.params.get("bias").unwrap();
        let b_out = self.params.get("bias_out").unwrap();
        let beta = T::from_f64(self.spec.beta);
        let kappa = T::from_f64(self.spec.kappa);
        let theta = T::from_f64(self.spec.threshold);
        let sur = self.spec.surrogate;
        let mut v = vec![T::ZERO; (steps + 1) * bn];
        let mut s = vec![T::ZERO; (steps + 1) * bn];
        let mut o = vec![T::ZERO; (steps + 1) * bn];
        let mut drive = vec![T::ZERO; bn];
        let mut y = vec![T::ZERO; steps * lanes * n_out];
        for i in 0..bn {
            s[i] = sur.spike(v[i] - theta);
        }
        for t in 0..steps {
            let (cur, next) = (t * bn..(t + 1) * bn, (t + 1) * bn..(t + 2) * bn);
            gemm(
                &mut drive,
                lanes,
                n,
                mat(&x[t * lanes * n_in..(t + 1) * lanes * n_in], lanes, n_in),
                mat(w_in, n, n_in).transpose(),
                false,
                T::ONE,
            );
            gemm(
                &mut drive,
                lanes,
                n,
                mat(&s[cur.clone()], lanes, n),
                mat(w, n, n).transpose(),
                true,
                T::ONE,
            );
            for i in 0..bn {
                let vt = v[cur.start + i];
                let st = s[cur.start + i];
                let vn = beta * vt * (T::ONE - st) + (T::ONE - beta) * (drive[i] + b[i % n]);
                v[next.start + i] = vn;
                let sn = sur.spike(vn - theta);
                s[next.start + i] = sn;
                o[next.start + i] = kappa * o[cur.start + i] + (T::ONE - kappa) * sn;
            }
            let yt = &mut y[t * lanes * n_out..(t + 1) * lanes * n_out];
            gemm(
                yt,
                lanes,
                n_out,
                mat(&o[next.clone()], lanes, n),
                mat(w_out, n_out, n).transpose(),
                false,
                T::ONE,
            );
            for row in yt.chunks_exact_mut(n_out) {
                for (a, &bb) in row.iter_mut().zip(b_out) {
                    *a += bb;
                }
            }
        }
        Ok((
            y,
            SpikingCache {
                steps,
                lanes,
                v,
                s,
                o,
            },
        ))
    }

    /// The surrogate gradient of the loss for ∂L/∂y (`T × B × N_out`).
    pub fn backward(
        &self,
        cache: &SpikingCache<T>,
        x: &[T],
        d_out: &[T],
    ) -> Result<Vec<T>, TrainError> {
        let SpikingSpec { n, n_in, n_out, .. } = self.spec;
        let (steps, lanes) = (cache.steps, cache.lanes);
        if d_out.len() != steps * lanes * n_out {
            return Err(TrainError::Shape(format!(
                "the output gradient has {} values, expected {}",
                d_out.len(),
                steps * lanes * n_out
            )));
        }
        let bn = lanes * n;
        let w = self.params.get("recurrent").unwrap();
        let w_out = self.params.get("readout").unwrap();
        let beta = T::from_f64(self.spec.beta);
        let kappa = T::from_f64(self.spec.kappa);
        let theta = T::from_f64(self.spec.threshold);
        let sur = self.spec.surrogate;
        let mut gv = vec![T::ZERO; bn];
        let mut gs = vec![T::ZERO; bn];
        let mut go = vec![T::ZERO; bn];
        let mut tmp = vec![T::ZERO; bn];
        let mut dd = vec![T::ZERO; steps * bn];
        for t in (0..steps).rev() {
            let dy = &d_out[t * lanes * n_out..(t + 1) * lanes * n_out];
            gemm(
                &mut tmp,
                lanes,
                n,
                mat(dy, lanes, n_out),
                mat(w_out, n_out, n),
                false,
                T::ONE,
            );
            let next = (t + 1) * bn;
            let cur = t * bn;
            for i in 0..bn {
                go[i] += tmp[i];
                gs[i] += (T::ONE - kappa) * go[i];
                gv[i] += gs[i] * sur.derivative(cache.v[next + i] - theta);
                dd[cur + i] = (T::ONE - beta) * gv[i];
            }
            gemm(
                &mut gs,
                lanes,
                n,
                mat(&dd[cur..cur + bn], lanes, n),
                mat(w, n, n),
                false,
                T::ONE,
            );
            for i in 0..bn {
                if !self.spec.detach_reset {
                    gs[i] -= gv[i] * beta * cache.v[cur + i];
                }
                gv[i] *= beta * (T::ONE - cache.s[cur + i]);
                go[i] *= kappa;
            }
        }
        let rows = steps * lanes;
        let mut grad = vec![T::ZERO; self.params.values.len()];
        let p = &self.params;
        let slot = |name: &str| p.slot(name).unwrap().clone();
        let s_w = slot("recurrent");
        gemm(
            &mut grad[s_w.offset..s_w.offset + s_w.len],
            n,
            n,
            mat(&dd, rows, n).transpose(),
            mat(&cache.s[..rows * n], rows, n),
            false,
            T::ONE,
        );
        let s_in = slot("readin");
        gemm(
            &mut grad[s_in.offset..s_in.offset + s_in.len],
            n,
            n_in,
            mat(&dd, rows, n).transpose(),
            mat(x, rows, n_in),
            false,
            T::ONE,
        );
        let s_out = slot("readout");
        gemm(
            &mut grad[s_out.offset..s_out.offset + s_out.len],
            n_out,
            n,
            mat(d_out, rows, n_out).transpose(),
            mat(&cache.o[bn..], rows, n),
            false,
            T::ONE,
        );
        let s_b = slot("bias");
        add_column_sums(&mut grad[s_b.offset..s_b.offset + s_b.len], &dd, n);
        let s_bo = slot("bias_out");
        add_column_sums(&mut grad[s_bo.offset..s_bo.offset + s_bo.len], d_out, n_out);
        for s in &p.slots {
            if !s.trainable {
                grad[s.offset..s.offset + s.len]
                    .iter_mut()
                    .for_each(|v| *v = T::ZERO);
            }
        }
        Ok(grad)
    }

    /// Mean spike count per neuron and step in a pass (for reporting).
    pub fn mean_rate(cache: &SpikingCache<T>) -> f64 {
        let bn = cache.s.len() / (cache.steps + 1);
        cache.s[bn..].iter().map(|v| v.to_f64()).sum::<f64>() / (cache.steps * bn).max(1) as f64
    }
}

impl<T: Real> Network<T> for SpikingRnn<T> {
    type Cache = SpikingCache<T>;
    fn sizes(&self) -> (usize, usize) {
        (self.spec.n_in, self.spec.n_out)
    }
    fn params(&self) -> &ParamSet<T> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut ParamSet<T> {
        &mut self.params
    }
    fn run(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        _options: &PassOptions,
    ) -> Result<(Vec<T>, f64, Self::Cache), TrainError> {
        let (y, cache) = self.forward(x, steps, lanes)?;
        Ok((y, 0.0, cache))
    }
    fn gradient(
        &self,
        cache: &Self::Cache,
        x: &[T],
        d_out: &[T],
        _options: &PassOptions,
    ) -> Result<Vec<T>, TrainError> {
        self.backward(cache, x, d_out)
    }
}
