from typing_extensions import Buffer

def histogram_counts(values: Buffer, lo: float, width: float, counts: Buffer, start: int, stop: int, *,
                     release_gil: bool = True) -> None: ...
