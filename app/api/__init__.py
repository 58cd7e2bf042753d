"""HTTP routers: parse requests, call the queue service, shape responses. No SQL here."""
