"""What a person sees while an experiment runs: the live panel or plain progress lines.

Modules: display (picks live or plain for a run and yields chaoslib event
handlers), live (the rich panel at the bottom of a terminal), progress (plain
lines per phase and activity, plus a status line every few seconds for CI
logs), readings (the stack's numbers from one timeline sample, in words),
run_watch (where the run is, kept from chaoslib's events). The numbers come
from the timeline control's Sampler; nothing here may break the run it shows.
"""
