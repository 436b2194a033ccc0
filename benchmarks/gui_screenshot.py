"""The Tk window of `gilkit demo responsive --gui` after every button was pressed, as a PNG for the README.

    xvfb-run -s "-screen 0 800x700x24" python benchmarks/gui_screenshot.py results/gui.png

Needs Pillow built with XCB (it reads the X screen); the buttons are pressed in turn, as with --auto.
"""

import os
import sys

from PIL import ImageGrab

from gilkit.gui import ResponsiveWindow


def main(path: str) -> None:
    window = ResponsiveWindow()
    pending = list(window.buttons.values())

    def press_next() -> None:
        if window.busy():
            window.root.after(50, press_next)
        elif pending:
            pending.pop(0).invoke()
            window.root.after(50, press_next)
        else:
            window.root.after(300, shoot)  # a few more frames in the chart, then the picture

    def shoot() -> None:
        root = window.root
        left, top = root.winfo_rootx(), root.winfo_rooty()
        box = (left, top, left + root.winfo_width(), top + root.winfo_height())
        try:
            ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).save(path)
        finally:
            root.destroy()

    window.root.after(300, press_next)
    window.root.mainloop()


if __name__ == "__main__":
    main(sys.argv[1])
