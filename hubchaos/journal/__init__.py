"""What a run's Chaos Toolkit journal says, beyond chaoslib's own status.

Modules: facts (`facts_from_journal`: fault windows, alert changes, timeline
samples, time to detect and to recover), faults (when each fault was active,
from the actions' outputs and the safety control's undo list), timestamps
(chaoslib's naive UTC and the controls' ISO times, read alike). Pure functions
of the journal dict: no I/O, no network, importable by the report and the
score alike.
"""
