# Buffer types the compiled kernels accept: any C-contiguous buffer of that item type
# (a NumPy array, a memoryview, an array.array), checked when the call is made.
from typing import Union

import numpy as np
from numpy.typing import NDArray

Int32Buffer = Union[NDArray[np.int32], memoryview]
Int64Buffer = Union[NDArray[np.int64], memoryview]
Float64Buffer = Union[NDArray[np.float64], memoryview]
