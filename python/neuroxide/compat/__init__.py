"""Drop-in APIs for the users of the seed tools, over the neuroxide engine.

- :mod:`neuroxide.compat.neuroflame`: ``Network(conf_file, **kwargs)``, ``model()`` →
  (N_BATCH, frames, N_E) rates;
- :mod:`neuroxide.compat.neurosimtools`: ``SpikingModel`` (EIF) and ``RateModel`` forward passes;
- :mod:`neuroxide.compat.rectipy`: ``Network(dt)``, ``add_diffeq_node``, ``add_edge``, ``run`` →
  ``Observer``;
- :mod:`neuroxide.compat.cnsproject`: LIF populations, dense connections, monitors.

Each translates its arguments into a neuroxide model and runs it; what a seed tool does that the
engine does not (yet) raises ``NotImplementedError`` naming it.
"""
