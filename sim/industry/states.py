"""A platform's states in an industry run, and what put a failed one there."""

OPERATING, WINDING_DOWN, FAILED = 0, 1, 2  # winding down: banned or exiting, no new loans (良性退出)
STATE_NAMES = {OPERATING: "operating", WINDING_DOWN: "winding_down", FAILED: "failed"}
CAUSES = ("background", "regulators", "named", "run")  # run: froze withdrawals (提现困难)
