"""Reports over ownership and the account values: counting modes, team performance."""
