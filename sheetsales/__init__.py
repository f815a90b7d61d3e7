"""sheetsales: sales-process control for B2B sales teams that live in Excel.

The pipeline, in the order data flows (one module per step):
templates → read → validate → rules → store → analyse → write.
The CLI, the demo and (later) the watcher are thin shells over it.
"""

__version__ = "0.1.0"
