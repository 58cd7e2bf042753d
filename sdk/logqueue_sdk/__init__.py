"""LogQueue client library."""
