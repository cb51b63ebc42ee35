"""HTTP: the REST API under /api/v1 and the server-rendered web pages, beside the CLI.

Routes parse, call services, and render; they hold no queries. Everything HTTP lives here,
at the top layer with the CLI, rather than in each domain's package: a page or an endpoint
often combines several domains (an account listing takes a rule from ``segments``), which
a route inside ``accounts`` could not import without breaking the layers.
"""
