"""What every hubchaos activity (action, probe) and control shares, below both.

Modules: settings (where the stack is: argument, configuration, environment,
then the local stack's defaults); arguments (coercing experiment arguments,
the hard ceilings); addresses (what a DSN or URL points at, never the
password); blast_radius (refusing targets off loopback unless allowed);
errors (foreign errors as `ActivityFailed` naming target and cause);
docker_target (the docker stack container faults and probes target). The
poll-until-deadline loop they use is `hubchaos.polling`, shared with the stack.
Nothing here imports actions or probes.
"""
