"""The HTTP interface: one FastAPI application assembled from the domains' routers."""
