"""The blast radius of an experiment file, checked when it is validated.

- `targets`: every target the experiment names (activities, chaoslib `http`
  providers, configuration, hubchaos's stack endpoints), after substitution;
- `bounds`: the flood and traffic limits, checked before anything runs;
- `validate.check_experiment`: all of it for one experiment, called by
  hubchaos.experiments (a refusal is a UserError: exit 2, one line).

The rule for one host lives in hubchaos.reach, which the activities' own
run-time guard uses too.
"""
