"""The dashboard's sidebar: the controls (Reset, play, Step, pin) and the inputs.

Reset builds the visitor's market anew from the inputs; ▶ plays frame after frame until ❚❚ or the
horizon; Step runs one frame. Work runs in a task (a thread), so the page shows a busy sign while
it steps (the first step of a fresh server compiles the kernels). Inputs show their values; one
changed since the market was built is marked, with a hint that Reset applies it.
"""

from __future__ import annotations

import time

import solara

from sim.dashboard.numbers import daily

PLAY_PAUSE_S = 0.05  # between frames while playing: the page's chance to draw


@solara.component
def Controls(market: solara.Reactive, frame: solara.Reactive, pinned: solara.Reactive,
             rebuild, days_per_frame: int):
    """Reset, ▶/❚❚, Step and Pin, and the run's status line."""
    playing = solara.use_reactive(False)

    def play():
        while playing.value and not market.value.finished:
            market.value.advance(days_per_frame)
            frame.value += 1
            time.sleep(PLAY_PAUSE_S)
        playing.value = False

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def one_frame():
        market.value.advance(days_per_frame)
        frame.value += 1

    stepping = solara.lab.use_task(one_frame, dependencies=None, prefer_threaded=True)

    def reset():
        playing.value = False
        rebuild()

    def pin():
        pinned.value = {"daily": daily(market.value), "label": _built_with(market.value)}

    frame.get()  # drawn again after every frame: the day and the buttons follow the market
    finished = market.value.finished
    busy = playing.value or stepping.pending
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=reset, disabled=stepping.pending)
        solara.Button("❚❚" if playing.value else "▶", color="primary", disabled=finished,
                      on_click=lambda: playing.set(not playing.value))
        solara.Button("Step", color="primary", on_click=stepping,
                      disabled=finished or busy)
    with solara.Row(justify="space-between"):
        solara.Button("Pin this run", text=True, on_click=pin, disabled=market.value.day == 0)
        if pinned.value is not None:
            solara.Button("Unpin", text=True, on_click=lambda: pinned.set(None))
    if stepping.pending and market.value.day == 0:
        solara.ProgressLinear(True)
        solara.Text("Working: the first step of a fresh server compiles the kernels (about 10 s).")
    elif stepping.pending:
        solara.ProgressLinear(True)
    if finished:
        solara.Success(f"Finished: the run reached its horizon, day {market.value.day:,} of "
                       f"{market.value.horizon_days:,}. Reset starts a new one.")
    else:
        solara.Text(f"Day {market.value.day:,} of {market.value.horizon_days:,}; a frame is "
                    f"{days_per_frame} days")
    if pinned.value is not None:
        solara.Text(f"Pinned (grey, dashed): {pinned.value['label']}")


@solara.component
def Inputs(specs: dict, values: solara.Reactive, built: dict, on_platform):
    """One widget per input spec, its value shown, changed ones marked until Reset."""
    changed = [name for name in specs if values.value.get(name) != built.get(name)]
    for name, spec in specs.items():
        mark = " •" if name in changed else ""
        label = f"{spec['label']}: {_shown(spec, values.value[name])}{mark}"

        def set_value(value, name=name):
            values.value = {**values.value, name: value}
            if name == "platform":
                on_platform(int(value))

        with solara.Column(classes=[f"input-{name}"], gap="0px"):
            _widget(spec, label, values.value[name], set_value)
    if changed:
        solara.Warning(f"Changed (•): {', '.join(changed)}. Press Reset to apply.", dense=True)


def _widget(spec: dict, label: str, value, set_value):
    """The input's widget: a checkbox, a select or a slider under its label."""
    if spec["type"] == "Checkbox":
        solara.Checkbox(label=label, value=bool(value), on_value=set_value)
    elif spec["type"] == "Select" and "names" in spec:
        names = spec["names"]
        solara.Select(label=label, values=names, value=names[int(value)],
                      on_value=lambda chosen: set_value(names.index(chosen)))
    elif spec["type"] == "Select":
        solara.Select(label=label, values=spec["values"], value=value, on_value=set_value)
    else:
        slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
        solara.Text(label, style={"font-size": "0.9em"})
        slider(label="", value=value, min=spec["min"], max=spec["max"], step=spec["step"],
               on_value=set_value)


def _shown(spec: dict, value) -> str:
    """An input's value as the label shows it, with its unit."""
    if spec["type"] == "Select" and "names" in spec:
        return spec["names"][int(value)]
    if spec["type"] == "Checkbox":
        return "on" if value else "off"
    if spec["type"] == "Select":
        return str(value)
    unit = f" {spec['unit']}" if spec.get("unit") else ""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{shown}{unit}"


def _built_with(market) -> str:
    """A short label of a market: its day and the inputs that differ from the scenario's."""
    specs = market.specs
    differ = [f"{k}={_shown(specs[k], v)}" for k, v in market.inputs.items() if specs[k]["value"] != v]
    return f"day {market.day}, " + (", ".join(differ) if differ else "the scenario's own inputs")
