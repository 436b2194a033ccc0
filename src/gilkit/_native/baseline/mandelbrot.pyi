from typing_extensions import Buffer

def mandelbrot_rows(out: Buffer, width: int, max_iter: int, xmin: float, ymin: float, dx: float, dy: float,
                    row_start: int, row_stop: int, cancel: Buffer, *, release_gil: bool = True) -> None: ...
def mandelbrot_rows_openmp(out: Buffer, width: int, max_iter: int, xmin: float, ymin: float, dx: float,
                           dy: float, starts: Buffer, stops: Buffer, num_threads: int,
                           cancel: Buffer) -> None: ...
