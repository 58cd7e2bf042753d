"""LogQueue's benchmark: ``python -m bench`` sets the server beside ceilings of the same run."""
