"""The GIL timeline's parts, below the public gilkit.gil_timeline: the model (a recording's samples and its
threads' lanes, the states with their words and colours), the sampler's records decoded into it, the
analysis (shares, waits, the reading a verdict takes, the figures and the table), and the Chrome trace.
gilkit.plot draws the model; gilkit.gil_timeline records it and puts the parts together."""
