"""Sign-in: passwords, browser sessions, API tokens, and the sign-in rate limit."""
