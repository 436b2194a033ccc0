"""The Tk window of `gilkit demo responsive --gui` after every button was pressed, as a PNG for the README.

    xvfb-run -s "-screen 0 800x700x24" python benchmarks/gui_screenshot.py results/gui.png

Needs Pillow built with XCB (it reads the X screen); the buttons are pressed in turn, as with --auto.
"""

import os
import sys

from PIL import ImageGrab

from gilkit.demos.gui import ResponsiveWindow, run_gui


def main(path: str) -> None:
    def shoot(window: ResponsiveWindow) -> None:
        root = window.root
        left, top = root.winfo_rootx(), root.winfo_rooty()
        box = (left, top, left + root.winfo_width(), top + root.winfo_height())
        ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).save(path)

    run_gui(auto=True, before_close=shoot)


if __name__ == "__main__":
    main(sys.argv[1])
