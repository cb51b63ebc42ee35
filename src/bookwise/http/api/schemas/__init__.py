"""API schemas with their examples, kept out of the route modules."""
