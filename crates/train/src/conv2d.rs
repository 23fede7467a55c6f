//! NeuroSimTools' `Conv2dRateModel` with its exact backpropagation-through-time adjoint.
//!
//! The state `h` of each lane is a `C × H × W` image (C the recurrent channels). The R- and
//! Z-type updates are [`crate::model`]'s with the dense matrices replaced by 2-D convolutions
//! (cross-correlations, as `torch.nn.Conv2d`):
//!
//! * R: `r_{t+1} = r_t + η ⊙ (−r_t + f(K ⋆ r_t + b + K_in ⋆ x_t))`, output `y_t = readout(r_{t+1})`;
//! * Z: `z_{t+1} = z_t + η ⊙ (−z_t + K ⋆ f(z_t) + b + K_in ⋆ x_t)`, output `y_t = readout(f(z_{t+1}))`.
//!
//! The recurrent convolution `K` (C → C channels) has padding "same" (PyTorch's: `k − 1` zeros in
//! all, the extra one after) and stride 1; `b` is one bias per channel. The readin `K_in`
//! (C_in → C) has any padding and stride and no bias; absent, `x_t` is the state's shape. The
//! readout is the identity, a convolution (C → C_out, any padding and stride, optional bias) or a
//! dense layer on the flattened image (NeuroSimTools' `'full'`, optional bias). η is one value or
//! one per state entry (`C·H·W`). Output `t` is read after update `t`, as in NeuroSimTools.
//!
//! **Adjoint.** With `g_{t+1} = ∂L/∂h_{t+1}`, `K^⊤` the transposed convolution and `a_t` the
//! drive inside `f` (R) or the update (Z):
//! * readout: `g_{t+1} += readout^⊤(∂L/∂y_t)` (times `f'(z_{t+1})` for Z);
//! * R: `δ_t = g_{t+1} ⊙ η ⊙ f'(a_t)`, `g_t = (1 − η) ⊙ g_{t+1} + K^⊤ δ_t`;
//! * Z: `δ_t = g_{t+1} ⊙ η`, `g_t = (1 − η) ⊙ g_{t+1} + f'(z_t) ⊙ K^⊤ δ_t`;
//! * `∂K += δ_t ⋆ s_t` (s = r, or f(z)), `∂K_in += δ_t ⋆ x_t`, `∂b_c += Σ δ_t[c]`.
//!
//! Layouts: lanes (the batch) are the outer index of every step; inputs are `T × B × (C_in·H_in·W_in)`,
//! states `B × (C·H·W)`, outputs `T × B × N_out`, each image row-major (channel, row, column).
//! The model runs in f64 and keeps every state of the pass (small models; no checkpointing).

use crate::model::{NetworkType, Transfer};
use crate::params::{ParamSet, ParamSlot};
use crate::{TrainError, seeded_rng};

/// A 2-D convolution's shape: channels, kernel, stride and zero padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub c_in: usize,
    pub c_out: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along rows and columns.
    pub stride: [usize; 2],
    /// Zeros added above, below, left and right of the input.
    pub padding: [usize; 4],
}

impl ConvGeometry {
    /// Stride 1 and PyTorch's padding "same" for this kernel.
    pub fn same(c_in: usize, c_out: usize, kernel: [usize; 2]) -> Self {
        let (th, tw) = (kernel[0].saturating_sub(1), kernel[1].saturating_sub(1));
        ConvGeometry {
            c_in,
            c_out,
            kernel,
            stride: [1, 1],
            padding: [th / 2, th - th / 2, tw / 2, tw - tw / 2],
        }
    }

    /// The number of kernel weights (`c_out · c_in · kh · kw`).
    pub fn weights(&self) -> usize {
        self.c_out * self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// The output image size for an `h × w` input.
    pub fn output_size(
        &self,
        h: usize,
        w: usize,
        what: &str,
    ) -> Result<(usize, usize), TrainError> {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        if kh == 0 || kw == 0 || sh == 0 || sw == 0 || self.c_in == 0 || self.c_out == 0 {
            return Err(TrainError::invalid(
                what,
                format!("{self:?}"),
                "positive channels, kernel sizes and strides",
            ));
        }
        let (ph, pw) = (
            h + self.padding[0] + self.padding[1],
            w + self.padding[2] + self.padding[3],
        );
        if ph < kh || pw < kw {
            return Err(TrainError::invalid(
                what,
                format!("a {kh}×{kw} kernel"),
                format!("a kernel no larger than the padded {ph}×{pw} input"),
            ));
        }
        Ok(((ph - kh) / sh + 1, (pw - kw) / sw + 1))
    }
}

/// A convolution applied to images of one size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Conv {
    g: ConvGeometry,
    h: usize,
    w: usize,
    ho: usize,
    wo: usize,
}

impl Conv {
    fn new(g: ConvGeometry, h: usize, w: usize, what: &str) -> Result<Self, TrainError> {
        let (ho, wo) = g.output_size(h, w, what)?;
        Ok(Conv { g, h, w, ho, wo })
    }

    fn in_len(&self) -> usize {
        self.g.c_in * self.h * self.w
    }

    fn out_len(&self) -> usize {
        self.g.c_out * self.ho * self.wo
    }

    /// Calls `visit(out_index, in_index, weight_index)` for every product of the convolution
    /// of one image (the zero padding contributes nothing).
    #[inline]
    fn for_each(&self, mut visit: impl FnMut(usize, usize, usize)) {
        let ConvGeometry {
            c_in,
            c_out,
            kernel: [kh, kw],
            stride: [sh, sw],
            padding: [top, _, left, _],
        } = self.g;
        for co in 0..c_out {
            for oh in 0..self.ho {
                for ow in 0..self.wo {
                    let o = (co * self.ho + oh) * self.wo + ow;
                    for ci in 0..c_in {
                        for ki in 0..kh {
                            let Some(ih) = (oh * sh + ki).checked_sub(top).filter(|&i| i < self.h)
                            else {
                                continue;
                            };
                            for kj in 0..kw {
                                let Some(iw) =
                                    (ow * sw + kj).checked_sub(left).filter(|&j| j < self.w)
                                else {
                                    continue;
                                };
                                let i = (ci * self.h + ih) * self.w + iw;
                                let k = ((co * c_in + ci) * kh + ki) * kw + kj;
                                visit(o, i, k);
                            }
                        }
                    }
                }
            }
        }
    }

    /// `out (+)= K ⋆ x (+ bias)` for `lanes` images.
    fn forward(&self, x: &[f64], k: &[f64], bias: Option<&[f64]>, out: &mut [f64], lanes: usize) {
        let (n_in, n_out, per_channel) = (self.in_len(), self.out_len(), self.ho * self.wo);
        for lane in 0..lanes {
            let xi = &x[lane * n_in..(lane + 1) * n_in];
            let yo = &mut out[lane * n_out..(lane + 1) * n_out];
            if let Some(b) = bias {
                for (c, chunk) in yo.chunks_exact_mut(per_channel).enumerate() {
                    chunk.iter_mut().for_each(|v| *v += b[c]);
                }
            }
            self.for_each(|o, i, w| yo[o] += k[w] * xi[i]);
        }
    }

    /// The adjoint for `lanes` images: `dk += dy ⋆ x`, `db += Σ dy` per channel and, when asked,
    /// `dx += K^⊤ dy`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        x: &[f64],
        k: &[f64],
        dy: &[f64],
        dk: &mut [f64],
        db: Option<&mut [f64]>,
        mut dx: Option<&mut [f64]>,
        lanes: usize,
    ) {
        let (n_in, n_out, per_channel) = (self.in_len(), self.out_len(), self.ho * self.wo);
        let mut db = db;
        for lane in 0..lanes {
            let xi = &x[lane * n_in..(lane + 1) * n_in];
            let gy = &dy[lane * n_out..(lane + 1) * n_out];
            if let Some(db) = db.as_deref_mut() {
                for (c, chunk) in gy.chunks_exact(per_channel).enumerate() {
                    db[c] += chunk.iter().sum::<f64>();
                }
            }
            match dx.as_deref_mut() {
                Some(dx) => {
                    let gx = &mut dx[lane * n_in..(lane + 1) * n_in];
                    self.for_each(|o, i, w| {
                        dk[w] += gy[o] * xi[i];
                        gx[i] += gy[o] * k[w];
                    });
                }
                None => self.for_each(|o, i, w| dk[w] += gy[o] * xi[i]),
            }
        }
    }
}

/// The readout of a [`Conv2dModel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvReadout {
    /// The rates themselves (NeuroSimTools' `'id'` and `'flatten'`).
    Identity,
    /// A convolution of the rate image (`'conv'`, `'conv_flatten'`); `c_in` must be C.
    Conv { geometry: ConvGeometry, bias: bool },
    /// A dense layer from the flattened rate image to `outputs` values (`'full'`).
    Linear { outputs: usize, bias: bool },
}

/// The structure of a [`Conv2dModel`].
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2dSpec {
    pub network_type: NetworkType,
    pub transfer: Transfer,
    /// Recurrent channels C.
    pub channels: usize,
    /// The recurrent kernel (padding "same", stride 1).
    pub kernel: [usize; 2],
    /// The input image: channels, height, width.
    pub input: [usize; 3],
    /// The readin convolution (its `c_out` must be C); `None`: the input is the state's shape.
    pub readin: Option<ConvGeometry>,
    pub readout: ConvReadout,
    pub bias_recurrent: bool,
    /// η: one value, or one per state entry (C·H·W).
    pub eta: Vec<f64>,
    /// Names of the trainable parameters (of `recurrent`, `bias`, `readin`, `readout`, `bias_out`).
    pub trainable: Vec<String>,
    /// Seed of the initial parameter draws.
    pub seed: u64,
}

/// A convolutional rate model: its structure, sizes and parameters (slots `recurrent`
/// `[C, C, kh, kw]`, `bias` `[C]`, `readin` `[C, C_in, kh, kw]`, `readout`, `bias_out`).
#[derive(Clone, Debug)]
pub struct Conv2dModel {
    pub spec: Conv2dSpec,
    recurrent: Conv,
    readin: Option<Conv>,
    readout: Option<Conv>,
    /// Entries of one lane's state (C·H·W).
    pub state_len: usize,
    /// The state image: channels, height, width.
    pub state_shape: [usize; 3],
    /// Entries of one lane's input (C_in·H_in·W_in).
    pub input_len: usize,
    /// Outputs per lane and step.
    pub n_out: usize,
    /// The output image of a convolutional readout (channels, height, width).
    pub output_shape: Option<[usize; 3]>,
    eta: Vec<f64>,
    pub params: ParamSet<f64>,
}

/// What the backward pass needs of a forward pass.
#[derive(Clone, Debug)]
pub struct ConvForward {
    pub steps: usize,
    pub lanes: usize,
    /// `y_t`, `T × B × N_out`.
    pub outputs: Vec<f64>,
    /// The final state `B × C·H·W`.
    pub final_state: Vec<f64>,
    /// `h_0 … h_T`, `(T + 1) × B × C·H·W`.
    states: Vec<f64>,
    /// R-type: the drive `a_t` inside f, `T × B × C·H·W` (empty for Z).
    drives: Vec<f64>,
}

impl ConvForward {
    /// The states after each update, `T × B × C·H·W` (NeuroSimTools' history).
    pub fn history(&self) -> &[f64] {
        &self.states[self.states.len() / (self.steps + 1)..]
    }
}

impl Conv2dModel {
    /// Build the model and draw its parameters as PyTorch's `Conv2d`/`Linear` default
    /// initialisation does: weights and biases uniform in `±1/√fan_in`.
    pub fn new(spec: Conv2dSpec) -> Result<Self, TrainError> {
        let c = spec.channels;
        let [c_in, h_in, w_in] = spec.input;
        if c == 0 || c_in == 0 || h_in == 0 || w_in == 0 {
            return Err(TrainError::invalid(
                "input",
                format!("{:?} with {c} channels", spec.input),
                "positive channels and image sizes",
            ));
        }
        let (readin, h, w) = match spec.readin {
            Some(g) => {
                if g.c_in != c_in || g.c_out != c {
                    return Err(TrainError::invalid(
                        "readin",
                        format!("{} → {} channels", g.c_in, g.c_out),
                        format!("{c_in} → {c} (input → recurrent channels)"),
                    ));
                }
                let conv = Conv::new(g, h_in, w_in, "readin")?;
                (Some(conv), conv.ho, conv.wo)
            }
            None => {
                if c_in != c {
                    return Err(TrainError::invalid(
                        "in_channels",
                        c_in,
                        format!("{c} (no readin: the input has the recurrent channels)"),
                    ));
                }
                (None, h_in, w_in)
            }
        };
        let recurrent = Conv::new(ConvGeometry::same(c, c, spec.kernel), h, w, "recurrent")?;
        let state_len = c * h * w;
        let (readout, n_out, output_shape) = match spec.readout {
            ConvReadout::Identity => (None, state_len, None),
            ConvReadout::Conv { geometry, .. } => {
                if geometry.c_in != c {
                    return Err(TrainError::invalid(
                        "readout",
                        format!("{} input channels", geometry.c_in),
                        format!("{c} (the recurrent channels)"),
                    ));
                }
                let conv = Conv::new(geometry, h, w, "readout")?;
                (
                    Some(conv),
                    conv.out_len(),
                    Some([geometry.c_out, conv.ho, conv.wo]),
                )
            }
            ConvReadout::Linear { outputs, .. } => {
                if outputs == 0 {
                    return Err(TrainError::invalid("out_channels", 0, "a positive size"));
                }
                (None, outputs, None)
            }
        };
        let eta = match spec.eta.len() {
            1 => vec![spec.eta[0]; state_len],
            n if n == state_len => spec.eta.clone(),
            n => {
                return Err(TrainError::invalid(
                    "eta",
                    format!("{n} values"),
                    format!("1 or one per state entry ({c}·{h}·{w} = {state_len})"),
                ));
            }
        };
        if let Some(bad) = eta.iter().find(|&&e| !(e > 0.0 && e <= 1.0)) {
            return Err(TrainError::invalid("eta", bad, "values in (0, 1]"));
        }
        let mut rng = seeded_rng(spec.seed, "train.conv2d.init");
        let mut uniform = |len: usize, fan_in: usize| -> Vec<f64> {
            let bound = 1.0 / (fan_in as f64).sqrt();
            (0..len)
                .map(|_| bound * (2.0 * rng.next_f64() - 1.0))
                .collect()
        };
        let fan = |g: &ConvGeometry| g.c_in * g.kernel[0] * g.kernel[1];
        let mut slots = Vec::new();
        let rg = recurrent.g;
        slots.push((
            ParamSlot::new("recurrent", &[c, c, rg.kernel[0], rg.kernel[1]]),
            uniform(rg.weights(), fan(&rg)),
        ));
        if spec.bias_recurrent {
            slots.push((ParamSlot::new("bias", &[c]), uniform(c, fan(&rg))));
        }
        if let Some(r) = &readin {
            let g = r.g;
            slots.push((
                ParamSlot::new("readin", &[c, c_in, g.kernel[0], g.kernel[1]]),
                uniform(g.weights(), fan(&g)),
            ));
        }
        match spec.readout {
            ConvReadout::Identity => {}
            ConvReadout::Conv { geometry: g, bias } => {
                slots.push((
                    ParamSlot::new("readout", &[g.c_out, c, g.kernel[0], g.kernel[1]]),
                    uniform(g.weights(), fan(&g)),
                ));
                if bias {
                    slots.push((
                        ParamSlot::new("bias_out", &[g.c_out]),
                        uniform(g.c_out, fan(&g)),
                    ));
                }
            }
            ConvReadout::Linear { outputs, bias } => {
                slots.push((
                    ParamSlot::new("readout", &[outputs, state_len]),
                    uniform(outputs * state_len, state_len),
                ));
                if bias {
                    slots.push((
                        ParamSlot::new("bias_out", &[outputs]),
                        uniform(outputs, state_len),
                    ));
                }
            }
        }
        let mut params = ParamSet::from_slots(slots);
        for name in &spec.trainable {
            let slot = params.slots.iter_mut().find(|s| &s.name == name);
            match slot {
                Some(s) => s.trainable = true,
                None => {
                    let names: Vec<_> = params.slots.iter().map(|s| s.name.as_str()).collect();
                    return Err(TrainError::invalid(
                        "trainable",
                        name,
                        format!("a parameter of this model ({})", names.join(", ")),
                    ));
                }
            }
        }
        Ok(Conv2dModel {
            input_len: c_in * h_in * w_in,
            state_shape: [c, h, w],
            spec,
            recurrent,
            readin,
            readout,
            state_len,
            n_out,
            output_shape,
            eta,
            params,
        })
    }

    fn param(&self, name: &str) -> Option<&[f64]> {
        self.params.get(name)
    }

    fn rates(&self, h: &[f64], out: &mut [f64]) {
        match self.spec.network_type {
            NetworkType::R => out.copy_from_slice(h),
            NetworkType::Z => self.spec.transfer.apply(h, out),
        }
    }

    /// `y = readout(ρ)` for `lanes` rate images.
    fn read_out(&self, rho: &[f64], y: &mut [f64], lanes: usize) {
        let w = self.param("readout");
        let b = self.param("bias_out");
        match (self.spec.readout, &self.readout) {
            (ConvReadout::Conv { .. }, Some(conv)) => {
                y.iter_mut().for_each(|v| *v = 0.0);
                conv.forward(rho, w.expect("readout"), b, y, lanes);
            }
            (ConvReadout::Linear { outputs, .. }, _) => {
                let w = w.expect("readout");
                let s = self.state_len;
                for lane in 0..lanes {
                    let r = &rho[lane * s..(lane + 1) * s];
                    for o in 0..outputs {
                        let row = &w[o * s..(o + 1) * s];
                        let dot: f64 = row.iter().zip(r).map(|(a, b)| a * b).sum();
                        y[lane * outputs + o] = dot + b.map_or(0.0, |b| b[o]);
                    }
                }
            }
            _ => y.copy_from_slice(rho),
        }
    }

    /// Run `steps` updates of `lanes` lanes from `initial` (`B × C·H·W`; `None`: zero).
    pub fn forward(
        &self,
        x: &[f64],
        steps: usize,
        lanes: usize,
        initial: Option<&[f64]>,
    ) -> Result<ConvForward, TrainError> {
        let s = self.state_len;
        if x.len() != steps * lanes * self.input_len {
            return Err(TrainError::Shape(format!(
                "x has {} values, expected steps × lanes × input = {steps} × {lanes} × {}",
                x.len(),
                self.input_len
            )));
        }
        let mut states = vec![0.0; (steps + 1) * lanes * s];
        if let Some(h0) = initial {
            if h0.len() != lanes * s {
                return Err(TrainError::Shape(format!(
                    "the initial state has {} values, expected lanes × C·H·W = {lanes} × {s}",
                    h0.len()
                )));
            }
            states[..lanes * s].copy_from_slice(h0);
        }
        let z_type = self.spec.network_type == NetworkType::Z;
        let mut drives = if z_type {
            Vec::new()
        } else {
            vec![0.0; steps * lanes * s]
        };
        let mut outputs = vec![0.0; steps * lanes * self.n_out];
        let k = self.param("recurrent").expect("recurrent");
        let bias = self.param("bias");
        let f = self.spec.transfer;
        let (mut drive, mut rate, mut fa) = (
            vec![0.0; lanes * s],
            vec![0.0; lanes * s],
            vec![0.0; lanes * s],
        );
        let n_in = lanes * self.input_len;
        for t in 0..steps {
            let xt = &x[t * n_in..(t + 1) * n_in];
            match &self.readin {
                Some(conv) => {
                    drive.iter_mut().for_each(|v| *v = 0.0);
                    conv.forward(
                        xt,
                        self.param("readin").expect("readin"),
                        None,
                        &mut drive,
                        lanes,
                    );
                }
                None => drive.copy_from_slice(xt),
            }
            let (past, future) = states.split_at_mut((t + 1) * lanes * s);
            let h = &past[t * lanes * s..];
            let next = &mut future[..lanes * s];
            // s_t: the rates seen by the recurrent convolution.
            if z_type {
                f.apply(h, &mut rate);
            } else {
                rate.copy_from_slice(h);
            }
            self.recurrent.forward(&rate, k, bias, &mut drive, lanes);
            if !z_type {
                f.apply(&drive, &mut fa);
                drives[t * lanes * s..(t + 1) * lanes * s].copy_from_slice(&drive);
            }
            // Z: the update's drive is u_t itself; R: f(a_t).
            let pull = if z_type { &drive } else { &fa };
            for (i, (n, (&h, &p))) in next.iter_mut().zip(h.iter().zip(pull)).enumerate() {
                *n = h + self.eta[i % s] * (-h + p);
            }
            self.rates(next, &mut rate);
            let y = &mut outputs[t * lanes * self.n_out..(t + 1) * lanes * self.n_out];
            self.read_out(&rate, y, lanes);
        }
        let final_state = states[steps * lanes * s..].to_vec();
        Ok(ConvForward {
            steps,
            lanes,
            outputs,
            final_state,
            states,
            drives,
        })
    }

    /// The gradient of the loss over every parameter (the flat layout of `params`), given
    /// `d_out = ∂L/∂y` (`T × B × N_out`).
    pub fn backward(
        &self,
        fwd: &ConvForward,
        x: &[f64],
        d_out: &[f64],
    ) -> Result<Vec<f64>, TrainError> {
        let (steps, lanes, s) = (fwd.steps, fwd.lanes, self.state_len);
        if d_out.len() != fwd.outputs.len() {
            return Err(TrainError::Shape(format!(
                "∂L/∂y has {} values, expected {}",
                d_out.len(),
                fwd.outputs.len()
            )));
        }
        let mut grad = vec![0.0; self.params.values.len()];
        let range = |name: &str| {
            self.params
                .slot(name)
                .map(|sl| sl.offset..sl.offset + sl.len)
        };
        let (r_k, r_b, r_in, r_out, r_bout) = (
            range("recurrent").expect("recurrent"),
            range("bias"),
            range("readin"),
            range("readout"),
            range("bias_out"),
        );
        let mut g_k = vec![0.0; r_k.len()];
        let mut g_b = r_b.as_ref().map(|r| vec![0.0; r.len()]);
        let mut g_in = r_in.as_ref().map(|r| vec![0.0; r.len()]);
        let mut g_out = r_out.as_ref().map(|r| vec![0.0; r.len()]);
        let mut g_bout = r_bout.as_ref().map(|r| vec![0.0; r.len()]);
        let k = self.param("recurrent").expect("recurrent");
        let f = self.spec.transfer;
        let z_type = self.spec.network_type == NetworkType::Z;
        let n = lanes * s;
        let n_in = lanes * self.input_len;
        let (mut g, mut rho, mut drho, mut delta, mut back, mut fz) = (
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
        );
        for t in (0..steps).rev() {
            let h1 = &fwd.states[(t + 1) * n..(t + 2) * n];
            let h0 = &fwd.states[t * n..(t + 1) * n];
            let dy = &d_out[t * lanes * self.n_out..(t + 1) * lanes * self.n_out];
            // The readout of ρ_{t+1}.
            self.rates(h1, &mut rho);
            match (self.spec.readout, &self.readout) {
                (ConvReadout::Conv { .. }, Some(conv)) => {
                    drho.iter_mut().for_each(|v| *v = 0.0);
                    conv.backward(
                        &rho,
                        self.param("readout").expect("readout"),
                        dy,
                        g_out.as_deref_mut().expect("readout"),
                        g_bout.as_deref_mut(),
                        Some(&mut drho),
                        lanes,
                    );
                }
                (ConvReadout::Linear { outputs, .. }, _) => {
                    let w = self.param("readout").expect("readout");
                    let gw = g_out.as_deref_mut().expect("readout");
                    drho.iter_mut().for_each(|v| *v = 0.0);
                    for lane in 0..lanes {
                        let r = &rho[lane * s..(lane + 1) * s];
                        let dr = &mut drho[lane * s..(lane + 1) * s];
                        for o in 0..outputs {
                            let d = dy[lane * outputs + o];
                            if let Some(gb) = g_bout.as_deref_mut() {
                                gb[o] += d;
                            }
                            let row = &w[o * s..(o + 1) * s];
                            let grow = &mut gw[o * s..(o + 1) * s];
                            for ((gw, dr), (&r, &w)) in
                                grow.iter_mut().zip(dr.iter_mut()).zip(r.iter().zip(row))
                            {
                                *gw += d * r;
                                *dr += d * w;
                            }
                        }
                    }
                }
                _ => drho.copy_from_slice(dy),
            }
            for (i, (g, &d)) in g.iter_mut().zip(&drho).enumerate() {
                *g += if z_type { d * f.df(h1[i], rho[i]) } else { d };
            }
            // δ_t and the recurrent adjoint.
            back.iter_mut().for_each(|v| *v = 0.0);
            if z_type {
                for (i, (d, &g)) in delta.iter_mut().zip(&g).enumerate() {
                    *d = g * self.eta[i % s];
                }
                f.apply(h0, &mut fz);
            } else {
                let a = &fwd.drives[t * n..(t + 1) * n];
                for (i, (d, (&g, &a))) in delta.iter_mut().zip(g.iter().zip(a)).enumerate() {
                    *d = g * self.eta[i % s] * f.df(a, f.f(a));
                }
                fz.copy_from_slice(h0);
            }
            self.recurrent.backward(
                &fz,
                k,
                &delta,
                &mut g_k,
                g_b.as_deref_mut(),
                Some(&mut back),
                lanes,
            );
            if let (Some(conv), Some(gi)) = (&self.readin, g_in.as_deref_mut()) {
                let xt = &x[t * n_in..(t + 1) * n_in];
                conv.backward(
                    xt,
                    self.param("readin").expect("readin"),
                    &delta,
                    gi,
                    None,
                    None,
                    lanes,
                );
            }
            for (i, (g, &b)) in g.iter_mut().zip(&back).enumerate() {
                let through = if z_type { f.df(h0[i], fz[i]) * b } else { b };
                *g = (1.0 - self.eta[i % s]) * *g + through;
            }
        }
        grad[r_k].copy_from_slice(&g_k);
        for (r, v) in [(r_b, g_b), (r_in, g_in), (r_out, g_out), (r_bout, g_bout)] {
            if let (Some(r), Some(v)) = (r, v) {
                grad[r].copy_from_slice(&v);
            }
        }
        Ok(grad)
    }
}
