"""The GIL timeline's colours as a colour-blind student sees them: the palette's smallest colour difference
(CAM02-UCS delta E) between any two states, in normal vision and simulated deuteranopia and protanopia
(colorspacious, severity 100), and a rendered timeline beside its two simulations.

    pip install colorspacious
    python benchmarks/palette_check.py results/palette-STEM.png > results/palette-STEM.txt

About 20 is where two small areas stop being told apart easily.
"""

import itertools
import sys

import numpy as np
from colorspacious import cspace_convert, deltaE
from matplotlib.figure import Figure

import gilkit
from gilkit._timeline.model import COLOURS, DESCRIPTIONS
from gilkit.plot import timeline_png

VISIONS = {"normal vision": None, "deuteranopia": "deuteranomaly", "protanopia": "protanomaly"}


def simulated(rgb: np.ndarray, kind: str | None) -> np.ndarray:
    if kind is None:
        return rgb
    space = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
    return np.clip(cspace_convert(rgb, space, "sRGB1"), 0, 1)


def smallest_differences() -> list[str]:
    colours = {state: np.array([int(hex_[i:i + 2], 16) for i in (1, 3, 5)]) / 255 for state, hex_ in COLOURS.items()}
    lines = []
    for vision, kind in VISIONS.items():
        found = {(a, b): float(deltaE(simulated(colours[a], kind), simulated(colours[b], kind), input_space="sRGB1"))
                 for a, b in itertools.combinations(colours, 2)}
        worst = min(found, key=found.__getitem__)
        pair = " / ".join(DESCRIPTIONS[state] for state in worst)
        lines.append(f"{vision}: smallest delta E {found[worst]:.0f} ({pair}); runs without / waits for the GIL "
                     f"{found[('running', 'waiting_gil')]:.0f}")
    return lines


def main(path: str) -> None:
    import io

    import matplotlib.image as mpimg

    recorded = gilkit.timeline(gilkit.mandelbrot, 300, 200, impl="python", threads=2)
    image = mpimg.imread(io.BytesIO(timeline_png(recorded)))[..., :3]
    fig = Figure(figsize=(12, 3 * len(VISIONS)))
    for ax, (vision, kind) in zip(fig.subplots(len(VISIONS), 1), VISIONS.items(), strict=True):
        ax.imshow(simulated(image, kind))
        ax.set_title(vision)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("\n".join(smallest_differences()))


if __name__ == "__main__":
    main(sys.argv[1])
