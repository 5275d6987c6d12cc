"""The machine's marking speed now, against the cost table gcsim runs with.

A twin's mark figures compare gcsim's cost table, measured once
(``gcsim calibrate``), with Go marking on the machine as it is during the
twin's runs. On a shared VM the two can differ by tens of percent within
minutes (README, known gaps): the same graph marks at ~28-34 ns an object in
one window and ~43-51 in the next. The probe measures that difference, so a
reader can tell a model error from the machine's weather.

Before each Go run of a setting, and once after the last, the probe runs the
calibration program's ``mark`` experiment on one reference graph: 1 Mi 64 B
objects with two nil pointer words (the steady twin's node) behind a root
slice, in allocation order, five ``runtime.GC()`` calls, less an empty GC's
cost (``calibfit.mark_graph_ns``). gcsim's prediction for the same graph is
the cost table's (``calibfit.mark_graph_model_ns``). The table row
``ref_mark`` holds both, ns per object; its error is how far the machine's
marking is from the table at that moment, to read beside ``mark_cpu``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gcsim.errors import ValidationError

__all__ = ["REFERENCE_GRAPH", "SpeedProbe", "objects_per_span"]

#: (kind, order, objects, non-nil pointer words): the calibration graph the probe marks.
REFERENCE_GRAPH = ("scan2", "seq", 1 << 20, 0)
PROBE_REPS = 5
#: The graph's objects' size, bytes (calibration/mark.go node2).
OBJECT_BYTES = 64


def objects_per_span(greentea: bool) -> int:
    """How many reference-graph objects fill a span (the GC sweeps each live span):
    Go's count for 64 B scan objects, after the span's own tail (Green Tea's inline
    mark bits, classic's heap bits)."""
    from gcsim.goruntime import sizeclasses as scl

    cls = int(scl.SIZE_TO_CLASS8[OBJECT_BYTES // 8])
    table = scl.NELEMS_SCAN_GREENTEA if greentea else scl.NELEMS_SCAN_CLASSIC
    return int(table[cls])


class SpeedProbe:
    """The calibration program, built once, and the reference graph's cost.

    Parameters
    ----------
    exe : Path
        The calibration program, Green Tea or classic build
        (``calibrate.build``).
    classic : bool
        Whether ``exe`` is the classic build, so the model side uses the
        classic mark entries.
    """

    def __init__(self, exe: Path, classic: bool) -> None:
        self.exe = exe
        self.classic = classic

    @classmethod
    def build(cls, go: Path, go_version: str, greentea: bool) -> SpeedProbe:
        """Build (or find cached) the calibration program for the probe.

        Raises
        ------
        ValidationError
            The build failed (the message says ``--no-speed-probe`` skips it).
        """
        from gcsim import calibrate

        variant = "greentea" if greentea else "classic"
        try:
            exe = calibrate.build(calibrate.calibration_root(), go, go_version, variant)
        except calibrate.CalibrationError as e:
            raise ValidationError(f"speed probe: {e} (--no-speed-probe skips it)") from None
        return cls(exe, classic=not greentea)

    def measure_ns(self) -> float:
        """One probe: Go's mark cost of the reference graph now, ns per object.

        Raises
        ------
        ValidationError
            The run failed or printed no usable records.
        """
        from gcsim import calibfit, calibrate

        kind, order, n, k = REFERENCE_GRAPH
        spec = f"empty:seq:0:0,{kind}:{order}:{n}:{k}"
        try:
            recs, _ = calibrate.run_experiment(self.exe, "mark",
                                               ("-graphs", spec, "-reps", str(PROBE_REPS)))
            return calibfit.mark_graph_ns(recs, kind, order, k)
        except calibrate.CalibrationError as e:
            raise ValidationError(f"speed probe: {e} (--no-speed-probe skips it)") from None

    def model_ns(self, costs: Any) -> float:
        """gcsim's cost of the reference graph under ``costs`` (a ``CostsConfig``),
        ns per object."""
        from gcsim import calibfit

        kind, _, _, k = REFERENCE_GRAPH
        return calibfit.mark_graph_model_ns(kind, k, costs.ns, classic=self.classic,
                                            spans_per_object=1 / objects_per_span(not self.classic))
