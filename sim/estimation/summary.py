"""What ``p2psim estimate`` prints: the estimates, what the moments identify, the moments' fit."""

from __future__ import annotations


def format_result(result: dict) -> str:
    """What ``p2psim estimate`` prints: the estimates, the moments, what does not fit."""
    e, m = result["estimates"], result["moments"]
    lines = [f"{result['name']}: {result['runs']} runs in {result['elapsed_s']:.0f} s, seed "
             f"{result['seed']}; results: {result.get('folder', '')}/"]
    if result["at_box_edge"]:
        names = ", ".join(e.parameter[i] for i in result["at_box_edge"])
        lines.append(f"the estimate of {names} is at the edge of the refinement's box, not at a "
                     f"bound: the search wanted to go further; rerun with a start nearer it")
    if result["points_left_out"]:
        lines.append(f"{result['points_left_out']} design points left out: a moment had no value "
                     f"there (no failure, or no platform left)")
    lines += identification_lines(result["identification"])
    if result.get("synthetic"):
        recovered = e.recovered.sum()
        lines.append(f"recovery check: the data are one run at known values; {recovered} of "
                     f"{len(e)} inside their 95 % intervals"
                     + ("" if recovered == len(e) else " (NOT RECOVERED: "
                        + ", ".join(e.parameter[~e.recovered]) + ")"))
    lines.append("estimates:")
    for row in e.itertuples():
        pinned = "" if row.pinned_down else "   (not pinned down by these moments)"
        error = (f"on its bound ({row.estimate:.4g} of [{row.low:.4g}, {row.high:.4g}])"
                 if row.at_bound else f"± {row.se:.2g} (sandwich)")
        wide = (" at least (the refinement's box ends there: the emulator is not trusted "
                "beyond it)" if row.interval_truncated else "")
        truth = f"; truth {row.truth:.4g}" if result.get("synthetic") else ""
        lines.append(f"  {row.parameter} = {row.estimate:.4g} {error}; 95 % profile interval "
                     f"[{row.ci95_low:.4g}, {row.ci95_high:.4g}]{wide}{pinned}{truth}")
    if result.get("assumptions"):
        lines.append("held fixed, not estimated (assumptions; the estimates are conditional on "
                     "them): " + "; ".join(f"{row['key']} = {row['value']:g} ({row['what']})"
                                            for row in result["assumptions"]))
    lines.append("moments (data ± se | model at the estimate ± se, spread of one run | z):")
    for row in m.itertuples():
        verdict = "fits" if row.fits else "DOES NOT FIT"
        lines.append(f"  {row.role:8} {row.moment:38} {row.data:8.4f} ± {row.data_se:.4f} | "
                     f"{row.simulated:8.4f} ± {row.simulated_se:.4f}, {row.model_spread:.4f} | "
                     f"{row.z:+5.2f} {verdict}")
    lines.append("run the scenario at the estimate with: " + " ".join(result["set"]))
    return "\n".join(lines)


def identification_lines(found: dict) -> list[str]:
    """The identification in words: how many directions of the parameters the moments see."""
    values = ", ".join(f"{v:.3g}" for v in found["singular_values"])
    condition = "infinite" if found["condition"] is None else f"{found['condition']:.3g}"
    seen = found["rank"] == found["parameters"]
    return [f"identification: the fitted moments ({found['moments']}) see {found['rank']} of the "
            f"{found['parameters']} parameters' directions (singular values of the weighted "
            f"Jacobian, in errors across the bounds: {values}; condition {condition})"
            + ("" if seen else "; the others are held by the prior, not the data")]
