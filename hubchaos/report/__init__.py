"""The run report in the postmortem shape, and what else hubchaos writes for people and CI.

Modules: outcome (`RunOutcome`: a run's verdict, facts and score, computed
once from the redacted journal and handed on by the runner); writer
(`write_report`: an outcome or a journal -> Markdown, HTML and SVG plots) on
content (what the report says, as a doc tree) with its summary and timeline
sections and format (numbers and times in words); doc (the document tree both
renderers lay out) rendered by markdown and html; plots (matplotlib graphs from
the journal facts); redact (secrets out of everything written); junit (JUnit
XML for CI). The facts come from hubchaos.journal, the verdict and score from
hubchaos.verdict and hubchaos.score; nothing here runs an experiment.
"""
