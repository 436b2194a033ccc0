from gilkit._native._buffers import Int32Buffer, Int64Buffer

def mandelbrot_rows(out: Int32Buffer, width: int, max_iter: int, xmin: float, ymin: float, dx: float, dy: float,
                    row_start: int, row_stop: int, cancel: Int32Buffer, *, release_gil: bool = True) -> None: ...
def mandelbrot_rows_openmp(out: Int32Buffer, width: int, max_iter: int, xmin: float, ymin: float, dx: float,
                           dy: float, starts: Int64Buffer, stops: Int64Buffer, num_threads: int,
                           cancel: Int32Buffer) -> None: ...
