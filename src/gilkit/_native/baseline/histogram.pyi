from gilkit._native._buffers import Float64Buffer, Int64Buffer

def histogram_counts(values: Float64Buffer, lo: float, width: float, counts: Int64Buffer, start: int, stop: int, *,
                     release_gil: bool = True) -> None: ...
