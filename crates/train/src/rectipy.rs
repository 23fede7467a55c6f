//! RectiPy's network of nodes and edges (`neuroxide.compat.rectipy`) trained by surrogate-gradient
//! backpropagation through time, RectiPy's `fit_bptt`.
//!
//! Every node is a population stepped with forward Euler at a fixed `dt`; within a step, all of
//! them read the states after the previous step. For node `i` at step `t`:
//! * input `I = η + x_t` (the input node: `x_t` itself, or `W_in x_t` with an input layer)
//!   `+ Σ_edges W_e o_src(t − 1 − d_j)` (`o_src` the source's output variable, `d_j` the delay in
//!   steps of source neuron `j`; outputs before the first step are 0, RectiPy's delay buffer);
//! * recurrent drive `R = k ⊙ (J o_rec(t − 1))` (`o_rec` the node's own source variable);
//! * LIF and leaky integrator `u = v + dt(−v/τ + R + I)`, QIF `u = v + dt((v² + I)/τ + R)`;
//! * spiking nodes: `p = H(u − θ)` (H(0) = 1), `v ← u(1 − m) + v_r m` with the mask `m = p`, and
//!   the trace `s ← decay·s + p`; rate nodes: `v ← u`, output `r = tanh(v)` or
//!   `r_max/(1 + e^{s(v₀ − v)})`.
//!
//! The readout is `z_t = W_out o_out(t)` of the output node (or `o_out(t)` itself); losses and
//! output activations are applied by the caller, which hands back ∂L/∂z. The backward pass
//! replaces H' by RectiPy's `g/(1 + slope·|u − θ|)²` and, like RectiPy, leaves the reset mask out
//! of the gradient (`detach_reset`). With [`Surrogate::smooth_forward`] and `detach_reset: false`
//! the forward pass is the smooth function whose derivative the backward pass uses, so gradients
//! can be checked against finite differences.

use crate::TrainError;
use crate::params::{ParamSet, ParamSlot};
use crate::spiking::Surrogate;

/// The equations of a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeKind {
    Lif,
    Qif,
    /// A leaky integrator with `r = tanh(v)`.
    LeakyTanh,
    /// A leaky integrator with `r = r_max/(1 + e^{slope(v₀ − v)})`.
    LeakySigmoid {
        r_max: f64,
        slope: f64,
        v0: f64,
    },
}

impl NodeKind {
    pub fn is_spiking(self) -> bool {
        matches!(self, NodeKind::Lif | NodeKind::Qif)
    }
}

/// A node variable read by edges, the readout or the recurrent weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Var {
    /// The membrane (or leaky-integrator) variable.
    V,
    /// The synaptic trace of a spiking node.
    S,
    /// The rate of a leaky integrator.
    R,
}

/// One population.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    pub label: String,
    pub kind: NodeKind,
    pub n: usize,
    /// Per neuron.
    pub tau: Vec<f64>,
    pub k: Vec<f64>,
    pub eta: Vec<f64>,
    pub v0: Vec<f64>,
    /// Trace update `s ← decay·s + spike`.
    pub decay: f64,
    pub threshold: f64,
    pub reset: f64,
    /// Recurrent weights (N × N, row = target); none: no recurrence.
    pub recurrent: Option<Vec<f64>>,
    /// Spike-frequency adaptation of a QIF node (RectiPy's qif_sfa): `x ← decay·x + α·spike`,
    /// and `η − x` in place of `η`: (decay, α).
    pub adaptation: Option<(f64, f64)>,
    /// The variable the recurrent weights read.
    pub source: Var,
    /// The variable edges and the readout read.
    pub output: Var,
}

/// A projection between nodes: `weights` is target × source.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeSpec {
    pub label: String,
    pub src: usize,
    pub tgt: usize,
    pub weights: Vec<f64>,
    /// Delay in steps per source neuron (empty: none).
    pub delays: Vec<usize>,
}

/// The graph.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphSpec {
    pub dt: f64,
    pub nodes: Vec<NodeSpec>,
    pub edges: Vec<EdgeSpec>,
    /// The node that receives the inputs.
    pub input: usize,
    /// Input layer `W_in` (N_input × m, m the number of input channels); none: x enters as is.
    pub readin: Option<(usize, Vec<f64>)>,
    pub output: usize,
    /// Readout `W_out` (C × N_output); none: the output variable itself.
    pub readout: Option<(usize, Vec<f64>)>,
    pub surrogate: Surrogate,
    pub detach_reset: bool,
    /// Names of the trained parameters: `<node>.weights`, `<node>.eta`, `<node>.k`, the edges'
    /// labels, `readin`, `readout`.
    pub trainable: Vec<String>,
}

/// The state carried from one window to the next.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphState {
    pub v: Vec<Vec<f64>>,
    pub s: Vec<Vec<f64>>,
    /// Adaptation variables (zero for nodes without).
    pub a: Vec<Vec<f64>>,
    /// Outputs before the state's own step, newest first (as long as the longest delay).
    pub past: Vec<Vec<Vec<f64>>>,
}

/// What a forward pass keeps for the backward pass: per node, `v` and `s` at indices
/// `0..=T` (0 the state before the window), and the state it started from.
#[derive(Clone, Debug)]
pub struct GraphCache {
    pub steps: usize,
    pub x: Vec<f64>,
    pub v: Vec<Vec<f64>>,
    pub s: Vec<Vec<f64>>,
    pub a: Vec<Vec<f64>>,
    pub start: GraphState,
}

/// The network with its parameters and state.
#[derive(Clone, Debug)]
pub struct RectipyNet {
    pub spec: GraphSpec,
    pub params: ParamSet<f64>,
    pub state: GraphState,
    max_delay: Vec<usize>,
}

fn spike(sur: &Surrogate, x: f64) -> f64 {
    if sur.smooth_forward {
        0.5 + sur.gain * x / (1.0 + sur.slope * x.abs())
    } else if x >= 0.0 {
        1.0
    } else {
        0.0
    }
}

fn spike_derivative(sur: &Surrogate, x: f64) -> f64 {
    let d = 1.0 + sur.slope * x.abs();
    sur.gain / (d * d)
}

fn sigmoid(r_max: f64, slope: f64, v0: f64, v: f64) -> f64 {
    r_max / (1.0 + (slope * (v0 - v)).exp())
}

impl RectipyNet {
    pub fn new(spec: GraphSpec) -> Result<Self, TrainError> {
        let invalid = |path: String, value: String, expected: &str| {
            Err(TrainError::invalid(path, value, expected))
        };
        if spec.nodes.is_empty()
            || spec.input >= spec.nodes.len()
            || spec.output >= spec.nodes.len()
        {
            return invalid(
                "nodes".into(),
                spec.nodes.len().to_string(),
                "nodes with an input and an output",
            );
        }
        let mut slots = Vec::new();
        for node in &spec.nodes {
            let n = node.n;
            for (name, v) in [
                ("tau", &node.tau),
                ("k", &node.k),
                ("eta", &node.eta),
                ("v0", &node.v0),
            ] {
                if v.len() != n {
                    return invalid(
                        format!("{}.{name}", node.label),
                        v.len().to_string(),
                        "one value per neuron",
                    );
                }
            }
            if node.tau.iter().any(|&t| t.is_nan() || t <= 0.0) {
                return invalid(
                    format!("{}.tau", node.label),
                    format!("{:?}", node.tau),
                    "positive time constants",
                );
            }
            if node.adaptation.is_some() && node.kind != NodeKind::Qif {
                return invalid(
                    format!("{}.adaptation", node.label),
                    format!("{:?}", node.kind),
                    "a QIF node (spike-frequency adaptation is qif_sfa's)",
                );
            }
            let var_ok = |v: Var| match v {
                Var::V => true,
                Var::S => node.kind.is_spiking(),
                Var::R => !node.kind.is_spiking(),
            };
            if !var_ok(node.source) || !var_ok(node.output) {
                return invalid(
                    format!("{}.output", node.label),
                    format!("{:?}/{:?}", node.source, node.output),
                    "s for spiking nodes, r for rate nodes, or v",
                );
            }
            if let Some(w) = &node.recurrent {
                if w.len() != n * n {
                    return invalid(
                        format!("{}.weights", node.label),
                        w.len().to_string(),
                        "N × N values",
                    );
                }
                slots.push((
                    ParamSlot::new(&format!("{}.weights", node.label), &[n, n]),
                    w.clone(),
                ));
            }
            slots.push((
                ParamSlot::new(&format!("{}.eta", node.label), &[n]),
                node.eta.clone(),
            ));
            slots.push((
                ParamSlot::new(&format!("{}.k", node.label), &[n]),
                node.k.clone(),
            ));
        }
        let mut max_delay = vec![0; spec.nodes.len()];
        for e in &spec.edges {
            if e.src >= spec.nodes.len() || e.tgt >= spec.nodes.len() {
                return invalid(
                    format!("{}.nodes", e.label),
                    format!("{} → {}", e.src, e.tgt),
                    "node indices",
                );
            }
            let (ns, nt) = (spec.nodes[e.src].n, spec.nodes[e.tgt].n);
            if e.weights.len() != ns * nt || !(e.delays.is_empty() || e.delays.len() == ns) {
                return invalid(
                    format!("{}.weights", e.label),
                    e.weights.len().to_string(),
                    "target × source weights and one delay per source neuron",
                );
            }
            let d = e.delays.iter().copied().max().unwrap_or(0);
            max_delay[e.src] = max_delay[e.src].max(d);
            slots.push((ParamSlot::new(&e.label, &[nt, ns]), e.weights.clone()));
        }
        if let Some((m, w)) = &spec.readin {
            if w.len() != m * spec.nodes[spec.input].n {
                return invalid("readin".into(), w.len().to_string(), "N_input × m values");
            }
            slots.push((
                ParamSlot::new("readin", &[spec.nodes[spec.input].n, *m]),
                w.clone(),
            ));
        }
        if let Some((c, w)) = &spec.readout {
            if w.len() != c * spec.nodes[spec.output].n {
                return invalid("readout".into(), w.len().to_string(), "C × N_output values");
            }
            slots.push((
                ParamSlot::new("readout", &[*c, spec.nodes[spec.output].n]),
                w.clone(),
            ));
        }
        let mut params = ParamSet::from_slots(slots);
        let names: Vec<String> = params.slots.iter().map(|s| s.name.clone()).collect();
        for t in &spec.trainable {
            if !names.contains(t) {
                return invalid(
                    "train_params".into(),
                    t.clone(),
                    &format!("a parameter of this network ({})", names.join(", ")),
                );
            }
        }
        for s in &mut params.slots {
            s.trainable = spec.trainable.contains(&s.name);
        }
        let mut net = RectipyNet {
            state: GraphState {
                v: vec![],
                s: vec![],
                a: vec![],
                past: vec![],
            },
            spec,
            params,
            max_delay,
        };
        net.reset();
        Ok(net)
    }

    /// Back to the initial state (v = v0, traces and delay buffers 0).
    pub fn reset(&mut self) {
        let nodes = &self.spec.nodes;
        self.state = GraphState {
            v: nodes.iter().map(|n| n.v0.clone()).collect(),
            s: nodes.iter().map(|n| vec![0.0; n.n]).collect(),
            a: nodes.iter().map(|n| vec![0.0; n.n]).collect(),
            past: nodes
                .iter()
                .zip(&self.max_delay)
                .map(|(n, &d)| vec![vec![0.0; n.n]; d])
                .collect(),
        };
    }

    /// The number of input channels and of readout values.
    pub fn sizes(&self) -> (usize, usize) {
        let n_in = match &self.spec.readin {
            Some((m, _)) => *m,
            None => self.spec.nodes[self.spec.input].n,
        };
        let n_out = match &self.spec.readout {
            Some((c, _)) => *c,
            None => self.spec.nodes[self.spec.output].n,
        };
        (n_in, n_out)
    }

    fn var(&self, node: usize, var: Var, v: &[f64], s: &[f64], j: usize) -> f64 {
        match var {
            Var::V => v[j],
            Var::S => s[j],
            Var::R => match self.spec.nodes[node].kind {
                NodeKind::LeakySigmoid { r_max, slope, v0 } => sigmoid(r_max, slope, v0, v[j]),
                _ => v[j].tanh(),
            },
        }
    }

    /// ∂var/∂(v or s): which state and the factor.
    fn var_adjoint(&self, node: usize, var: Var, v: f64) -> (bool, f64) {
        match var {
            Var::V => (true, 1.0),
            Var::S => (false, 1.0),
            Var::R => match self.spec.nodes[node].kind {
                NodeKind::LeakySigmoid { r_max, slope, v0 } => {
                    let r = sigmoid(1.0, slope, v0, v);
                    (true, r_max * slope * r * (1.0 - r))
                }
                _ => {
                    let t = v.tanh();
                    (true, 1.0 - t * t)
                }
            },
        }
    }

    /// Run `steps` steps from the current state on `x` (`steps × n_in`, row-major); returns the
    /// readout (`steps × n_out`) and the cache, and moves the state to the end of the window.
    pub fn forward(
        &mut self,
        x: &[f64],
        steps: usize,
    ) -> Result<(Vec<f64>, GraphCache), TrainError> {
        let (n_in, n_out) = self.sizes();
        if x.len() != steps * n_in {
            return Err(TrainError::Shape(format!(
                "the input has {} values, expected {steps} × {n_in}",
                x.len()
            )));
        }
        let spec = &self.spec;
        let nodes = &spec.nodes;
        let start = self.state.clone();
        let mut v: Vec<Vec<f64>> = nodes.iter().map(|n| vec![0.0; (steps + 1) * n.n]).collect();
        let mut s: Vec<Vec<f64>> = v.clone();
        let mut ad: Vec<Vec<f64>> = v.clone();
        for (i, node) in nodes.iter().enumerate() {
            v[i][..node.n].copy_from_slice(&start.v[i]);
            s[i][..node.n].copy_from_slice(&start.s[i]);
            ad[i][..node.n].copy_from_slice(&start.a[i]);
        }
        let sur = spec.surrogate;
        let mut y = vec![0.0; steps * n_out];
        for t in 0..steps {
            for (i, node) in nodes.iter().enumerate() {
                let n = node.n;
                let (input, jo, _) = self.drive(i, t, &v, &s, &start, x);
                let k = self.params.get(&format!("{}.k", node.label)).unwrap();
                let rec: Vec<f64> = jo.iter().zip(k).map(|(a, b)| a * b).collect();
                let (cur, next) = (t * n, (t + 1) * n);
                for j in 0..n {
                    let vp = v[i][cur + j];
                    let tau = node.tau[j];
                    let xa = ad[i][cur + j];
                    let u = match node.kind {
                        NodeKind::Qif => vp + spec.dt * ((vp * vp + input[j] - xa) / tau + rec[j]),
                        _ => vp + spec.dt * (-vp / tau + rec[j] + input[j]),
                    };
                    if node.kind.is_spiking() {
                        let p = spike(&sur, u - node.threshold);
                        v[i][next + j] = u * (1.0 - p) + node.reset * p;
                        s[i][next + j] = node.decay * s[i][cur + j] + p;
                        if let Some((decay, alpha)) = node.adaptation {
                            ad[i][next + j] = decay * xa + alpha * p;
                        }
                    } else {
                        v[i][next + j] = u;
                    }
                }
            }
            let o = spec.output;
            let no = nodes[o].n;
            let range = (t + 1) * no..(t + 2) * no;
            let out: Vec<f64> = (0..no)
                .map(|j| {
                    self.var(
                        o,
                        nodes[o].output,
                        &v[o][range.clone()],
                        &s[o][range.clone()],
                        j,
                    )
                })
                .collect();
            let yt = &mut y[t * n_out..(t + 1) * n_out];
            match self.params.get("readout") {
                Some(w) => {
                    for (a, row) in yt.iter_mut().zip(w.chunks_exact(no)) {
                        *a = row.iter().zip(&out).map(|(w, o)| w * o).sum();
                    }
                }
                None => yt.copy_from_slice(&out),
            }
        }
        // The state at the end, with the delay buffers.
        let mut end = GraphState {
            v: vec![],
            s: vec![],
            a: vec![],
            past: vec![],
        };
        for (i, node) in nodes.iter().enumerate() {
            let n = node.n;
            end.v.push(v[i][steps * n..].to_vec());
            end.s.push(s[i][steps * n..].to_vec());
            end.a.push(ad[i][steps * n..].to_vec());
            let past = (0..self.max_delay[i])
                .map(|b| {
                    (0..n)
                        .map(|j| {
                            self.output_at(
                                i,
                                node.output,
                                &v,
                                &s,
                                &start,
                                steps as isize - 1 - b as isize,
                                j,
                            )
                        })
                        .collect()
                })
                .collect();
            end.past.push(past);
        }
        self.state = end;
        Ok((
            y,
            GraphCache {
                steps,
                x: x.to_vec(),
                v,
                s,
                a: ad,
                start,
            },
        ))
    }

    /// The output variable of `node` at index `idx` (0: the state before the window; negative:
    /// from the delay buffer, 0 beyond it).
    #[allow(clippy::too_many_arguments)]
    fn output_at(
        &self,
        node: usize,
        var: Var,
        v: &[Vec<f64>],
        s: &[Vec<f64>],
        start: &GraphState,
        idx: isize,
        j: usize,
    ) -> f64 {
        let n = self.spec.nodes[node].n;
        if idx >= 0 {
            let r = idx as usize * n..(idx as usize + 1) * n;
            self.var(node, var, &v[node][r.clone()], &s[node][r], j)
        } else {
            start.past[node]
                .get((-idx - 1) as usize)
                .map_or(0.0, |p| p[j])
        }
    }

    /// The gradient of the loss for ∂L/∂z (`steps × n_out`), zero for untrained parameters.
    pub fn backward(&self, cache: &GraphCache, d_out: &[f64]) -> Result<Vec<f64>, TrainError> {
        let spec = &self.spec;
        let nodes = &spec.nodes;
        let steps = cache.steps;
        let (n_in, n_out) = self.sizes();
        if d_out.len() != steps * n_out {
            return Err(TrainError::Shape(format!(
                "the output gradient has {} values, expected {steps} × {n_out}",
                d_out.len()
            )));
        }
        let (v, s) = (&cache.v, &cache.s);
        let mut gv: Vec<Vec<f64>> = v.iter().map(|a| vec![0.0; a.len()]).collect();
        let mut gs = gv.clone();
        let mut ga = gv.clone();
        let mut grad = vec![0.0; self.params.values.len()];
        let offset = |name: &str| self.params.slot(name).map(|s| s.offset);
        let sur = spec.surrogate;
        // Adds g to the adjoint of `var` of `node` at index `idx` (dropped before the window).
        let add = |gv: &mut Vec<Vec<f64>>,
                   gs: &mut Vec<Vec<f64>>,
                   node: usize,
                   var: Var,
                   idx: isize,
                   j: usize,
                   g: f64| {
            if idx < 0 {
                return;
            }
            let n = nodes[node].n;
            let at = idx as usize * n + j;
            let (is_v, f) = self.var_adjoint(node, var, v[node][at]);
            if is_v {
                gv[node][at] += f * g;
            } else {
                gs[node][at] += f * g;
            }
        };
        for t in (0..steps).rev() {
            let o = spec.output;
            let no = nodes[o].n;
            let dz = &d_out[t * n_out..(t + 1) * n_out];
            match self.params.get("readout") {
                Some(w) => {
                    let off = offset("readout").unwrap();
                    let r = (t + 1) * no..(t + 2) * no;
                    for j in 0..no {
                        let oj =
                            self.var(o, nodes[o].output, &v[o][r.clone()], &s[o][r.clone()], j);
                        let mut g = 0.0;
                        for c in 0..n_out {
                            grad[off + c * no + j] += dz[c] * oj;
                            g += w[c * no + j] * dz[c];
                        }
                        add(&mut gv, &mut gs, o, nodes[o].output, t as isize + 1, j, g);
                    }
                }
                None => {
                    for j in 0..no {
                        add(
                            &mut gv,
                            &mut gs,
                            o,
                            nodes[o].output,
                            t as isize + 1,
                            j,
                            dz[j],
                        );
                    }
                }
            }
            for (i, node) in nodes.iter().enumerate() {
                let n = node.n;
                let (cur, next) = (t * n, (t + 1) * n);
                let k = self.params.get(&format!("{}.k", node.label)).unwrap();
                let w_rec = self.params.get(&format!("{}.weights", node.label));
                let (input, jo, o_rec) = self.drive(i, t, v, s, &cache.start, &cache.x);
                let mut g_input = vec![0.0; n];
                let mut g_rec = vec![0.0; n];
                for j in 0..n {
                    let vp = v[i][cur + j];
                    let tau = node.tau[j];
                    let mut gu = gv[i][next + j];
                    if node.kind.is_spiking() {
                        // u before the reset, recomputed (the drive is not stored).
                        let xa = cache.a[i][cur + j];
                        let u = match node.kind {
                            NodeKind::Qif => {
                                vp + spec.dt * ((vp * vp + input[j] - xa) / tau + k[j] * jo[j])
                            }
                            _ => vp + spec.dt * (-vp / tau + k[j] * jo[j] + input[j]),
                        };
                        let x = u - node.threshold;
                        let p = spike(&sur, x);
                        let mut gp = gs[i][next + j];
                        if !spec.detach_reset {
                            gp += gu * (node.reset - u);
                        }
                        gs[i][cur + j] += node.decay * gs[i][next + j];
                        if let Some((decay, alpha)) = node.adaptation {
                            gp += alpha * ga[i][next + j];
                            ga[i][cur + j] += decay * ga[i][next + j];
                        }
                        gu = gu * (1.0 - p) + gp * spike_derivative(&sur, x);
                    }
                    let (dv, di) = match node.kind {
                        NodeKind::Qif => (1.0 + 2.0 * spec.dt * vp / tau, spec.dt / tau),
                        _ => (1.0 - spec.dt / tau, spec.dt),
                    };
                    gv[i][cur + j] += gu * dv;
                    g_input[j] = gu * di;
                    if node.adaptation.is_some() {
                        ga[i][cur + j] -= gu * di;
                    }
                    g_rec[j] = gu * spec.dt;
                }
                // η and k.
                let off = offset(&format!("{}.eta", node.label)).unwrap();
                for j in 0..n {
                    grad[off + j] += g_input[j];
                }
                let off = offset(&format!("{}.k", node.label)).unwrap();
                for j in 0..n {
                    grad[off + j] += g_rec[j] * jo[j];
                }
                if let Some(w) = w_rec {
                    let off = offset(&format!("{}.weights", node.label)).unwrap();
                    for a in 0..n {
                        let ga = g_rec[a] * k[a];
                        if ga == 0.0 {
                            continue;
                        }
                        for b in 0..n {
                            grad[off + a * n + b] += ga * o_rec[b];
                        }
                    }
                    for b in 0..n {
                        let g: f64 = (0..n).map(|a| w[a * n + b] * g_rec[a] * k[a]).sum();
                        add(&mut gv, &mut gs, i, node.source, t as isize, b, g);
                    }
                }
                if i == spec.input
                    && let Some(off) = offset("readin")
                {
                    let xt = &cache.x[t * n_in..(t + 1) * n_in];
                    for a in 0..n {
                        for b in 0..n_in {
                            grad[off + a * n_in + b] += g_input[a] * xt[b];
                        }
                    }
                }
                for e in spec.edges.iter().filter(|e| e.tgt == i) {
                    let w = self.params.get(&e.label).unwrap();
                    let off = offset(&e.label).unwrap();
                    let ns = nodes[e.src].n;
                    for b in 0..ns {
                        let d = e.delays.get(b).copied().unwrap_or(0);
                        let idx = t as isize - d as isize;
                        let ob =
                            self.output_at(e.src, nodes[e.src].output, v, s, &cache.start, idx, b);
                        let mut g = 0.0;
                        for a in 0..n {
                            grad[off + a * ns + b] += g_input[a] * ob;
                            g += w[a * ns + b] * g_input[a];
                        }
                        add(&mut gv, &mut gs, e.src, nodes[e.src].output, idx, b, g);
                    }
                }
            }
        }
        for slot in &self.params.slots {
            if !slot.trainable {
                grad[slot.offset..slot.offset + slot.len].fill(0.0);
            }
        }
        Ok(grad)
    }

    /// The drive of node `i` at step `t` from the states before it: the input `I` (η, x, edges),
    /// `J o_rec` and `o_rec`.
    #[allow(clippy::type_complexity)]
    fn drive(
        &self,
        i: usize,
        t: usize,
        v: &[Vec<f64>],
        s: &[Vec<f64>],
        start: &GraphState,
        x: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let spec = &self.spec;
        let node = &spec.nodes[i];
        let n = node.n;
        let (n_in, _) = self.sizes();
        let mut input = self
            .params
            .get(&format!("{}.eta", node.label))
            .unwrap()
            .to_vec();
        if i == spec.input {
            let xt = &x[t * n_in..(t + 1) * n_in];
            match self.params.get("readin") {
                Some(w) => {
                    for (a, row) in input.iter_mut().zip(w.chunks_exact(n_in)) {
                        *a += row.iter().zip(xt).map(|(w, x)| w * x).sum::<f64>();
                    }
                }
                None => input.iter_mut().zip(xt).for_each(|(a, x)| *a += x),
            }
        }
        for e in spec.edges.iter().filter(|e| e.tgt == i) {
            let w = self.params.get(&e.label).unwrap();
            let ns = spec.nodes[e.src].n;
            let o: Vec<f64> = (0..ns)
                .map(|j| {
                    let d = e.delays.get(j).copied().unwrap_or(0);
                    let var = spec.nodes[e.src].output;
                    self.output_at(e.src, var, v, s, start, t as isize - d as isize, j)
                })
                .collect();
            for (a, row) in input.iter_mut().zip(w.chunks_exact(ns)) {
                *a += row.iter().zip(&o).map(|(w, o)| w * o).sum::<f64>();
            }
        }
        let (vp, sp) = (&v[i][t * n..(t + 1) * n], &s[i][t * n..(t + 1) * n]);
        let o_rec: Vec<f64> = (0..n)
            .map(|j| self.var(i, node.source, vp, sp, j))
            .collect();
        let jo = match self.params.get(&format!("{}.weights", node.label)) {
            Some(w) => w
                .chunks_exact(n)
                .map(|row| row.iter().zip(&o_rec).map(|(w, o)| w * o).sum())
                .collect(),
            None => vec![0.0; n],
        };
        (input, jo, o_rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(label: &str, kind: NodeKind, n: usize, recurrent: bool, seed: f64) -> NodeSpec {
        let values = |scale: f64| -> Vec<f64> {
            (0..n)
                .map(|i| scale * ((i as f64 + seed) * 1.7).sin())
                .collect()
        };
        let spiking = kind.is_spiking();
        NodeSpec {
            label: label.into(),
            kind,
            n,
            tau: (0..n).map(|i| 3.0 + i as f64).collect(),
            k: values(0.8).iter().map(|k| 1.0 + k).collect(),
            eta: values(0.3),
            v0: values(0.4),
            decay: 0.9,
            threshold: 0.5,
            reset: -0.3,
            recurrent: recurrent.then(|| {
                (0..n * n)
                    .map(|i| 0.6 * ((i as f64 + seed) * 2.3).cos())
                    .collect()
            }),
            adaptation: None,
            source: if spiking { Var::S } else { Var::R },
            output: if spiking { Var::S } else { Var::R },
        }
    }

    /// A graph through every code path: input layer, LIF (recurrent) → QIF (delays) → leaky
    /// integrator (sigmoid, recurrent) → readout.
    fn graph(detach_reset: bool) -> RectipyNet {
        let weights = |rows: usize, cols: usize, seed: f64| -> Vec<f64> {
            (0..rows * cols)
                .map(|i| ((i as f64 + seed) * 0.9).sin())
                .collect()
        };
        let mut trainable = vec!["readin".to_string(), "readout".into(), "a->b".into()];
        trainable.extend(
            [
                "b->c",
                "a.weights",
                "a.eta",
                "a.k",
                "b.eta",
                "c.weights",
                "c.k",
            ]
            .map(String::from),
        );
        let spec = GraphSpec {
            dt: 0.1,
            nodes: vec![
                node("a", NodeKind::Lif, 3, true, 0.0),
                NodeSpec {
                    adaptation: Some((0.95, 0.7)),
                    ..node("b", NodeKind::Qif, 2, false, 1.0)
                },
                node(
                    "c",
                    NodeKind::LeakySigmoid {
                        r_max: 1.5,
                        slope: 2.0,
                        v0: 0.1,
                    },
                    2,
                    true,
                    2.0,
                ),
            ],
            edges: vec![
                EdgeSpec {
                    label: "a->b".into(),
                    src: 0,
                    tgt: 1,
                    weights: weights(2, 3, 0.5),
                    delays: vec![0, 2, 1],
                },
                EdgeSpec {
                    label: "b->c".into(),
                    src: 1,
                    tgt: 2,
                    weights: weights(2, 2, 1.5),
                    delays: vec![],
                },
            ],
            input: 0,
            readin: Some((2, weights(3, 2, 2.5))),
            output: 2,
            readout: Some((2, weights(2, 2, 3.5))),
            surrogate: Surrogate {
                gain: 1.0,
                slope: 2.0,
                smooth_forward: true,
            },
            detach_reset,
            trainable,
        };
        RectipyNet::new(spec).unwrap()
    }

    fn loss(net: &mut RectipyNet, x: &[f64], steps: usize, c: &[f64]) -> f64 {
        net.reset();
        let (y, _) = net.forward(x, steps).unwrap();
        y.iter().zip(c).map(|(a, b)| a * b).sum()
    }

    #[test]
    fn gradient_equals_central_differences_in_the_smooth_regime() {
        let steps = 12;
        let mut net = graph(false);
        let x: Vec<f64> = (0..steps * 2)
            .map(|i| (i as f64 * 0.37).sin() * 2.0)
            .collect();
        let c: Vec<f64> = (0..steps * 2).map(|i| (i as f64 * 0.71).cos()).collect();
        net.reset();
        let (_, cache) = net.forward(&x, steps).unwrap();
        let grad = net.backward(&cache, &c).unwrap();
        let mask = net.params.trainable_mask();
        for i in 0..grad.len() {
            let p0 = net.params.values[i];
            net.params.values[i] = p0 + 1e-6;
            let up = loss(&mut net, &x, steps, &c);
            net.params.values[i] = p0 - 1e-6;
            let down = loss(&mut net, &x, steps, &c);
            net.params.values[i] = p0;
            let numeric = if mask[i] { (up - down) / 2e-6 } else { 0.0 };
            assert!(
                (grad[i] - numeric).abs() <= 1e-6 * (1.0 + numeric.abs()),
                "parameter {i}: {} vs {numeric}",
                grad[i]
            );
        }
        // Untrained: c.eta and b.k.
        let zero = |name: &str| {
            let s = net.params.slot(name).unwrap();
            grad[s.offset..s.offset + s.len].iter().all(|g| *g == 0.0)
        };
        assert!(zero("c.eta") && zero("b.k"));
        assert!(grad.iter().map(|g| g.abs()).fold(0.0, f64::max) > 1e-2);
    }

    #[test]
    fn windows_carry_the_state_and_the_delay_buffers() {
        let steps = 10;
        let mut net = graph(true);
        let x: Vec<f64> = (0..steps * 2)
            .map(|i| (i as f64 * 0.37).sin() * 2.0)
            .collect();
        net.reset();
        let (whole, _) = net.forward(&x, steps).unwrap();
        net.reset();
        let (first, _) = net.forward(&x[..8], 4).unwrap();
        let (second, _) = net.forward(&x[8..], 6).unwrap();
        let split: Vec<f64> = first.into_iter().chain(second).collect();
        assert_eq!(whole, split);
    }
}
